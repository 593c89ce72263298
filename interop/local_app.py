"""A user's app on localhost, behind hookline (a route or `hookline listen`):
it verifies each webhook with the provider's own library, as it would if the
provider called it directly, and logs what arrived.

Usage: python3 local_app.py PORT LOG_FILE [--stripe SECRET] [--github SECRET] [--standard SECRET]

The provider is the first part of the path: /stripe… (stripe), /github…
(@octokit/webhooks-methods, through github.mjs), /standard… (standardwebhooks);
any other path is not verified. Answers 200, or 400 when verification fails,
and appends one JSON line per request to LOG_FILE: path, verdict (ok, bad or
none), the X-Hookline-Event-Id, the headers in order, the body as text.
"""

import argparse
import http.server
import json
import os
import subprocess
import tempfile

import standardwebhooks
import stripe

HERE = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("log")
p.add_argument("--stripe")
p.add_argument("--github")
p.add_argument("--standard")
args = p.parse_args()


def github_ok(body, signature):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(body)
    try:
        r = subprocess.run(["node", os.path.join(HERE, "github.mjs"), "verify", args.github, f.name,
                            signature or ""], capture_output=True, text=True)
        return r.returncode == 0
    finally:
        os.unlink(f.name)


def verdict(path, headers, body):
    try:
        if path.startswith("/stripe"):
            stripe.Webhook.construct_event(body, headers.get("stripe-signature"), args.stripe)
        elif path.startswith("/github"):
            return "ok" if github_ok(body, headers.get("x-hub-signature-256")) else "bad"
        elif path.startswith("/standard"):
            standardwebhooks.Webhook(args.standard).verify(body, dict(headers.items()))
        else:
            return "none"
        return "ok"
    except Exception:  # noqa: BLE001 - any refusal by the library
        return "bad"


class App(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        v = verdict(self.path, self.headers, body)
        line = {"path": self.path, "verdict": v, "id": self.headers.get("x-hookline-event-id"),
                "headers": [[k.lower(), val] for k, val in self.headers.items()],
                "body": body.decode("utf-8", "replace")}
        with open(args.log, "a") as f:
            f.write(json.dumps(line) + "\n")
        self.send_response(400 if v == "bad" else 200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", args.port), App).serve_forever()
