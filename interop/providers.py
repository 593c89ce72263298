"""Interop with the providers' own reference libraries, in both directions.

hookline -> library: `hookline send` posts to a local capturing server and the
provider's library verifies what arrived. library -> hookline: the library signs
and `hookline verify` must accept it. Also checks that tampering is rejected by
both. Usage: python3 providers.py PATH_TO_HOOKLINE_BINARY
"""

import base64
import datetime
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HOOKLINE = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
BODY = '{"id":"evt_1","object":"event","type":"invoice.paid","data":{"amount":4200,"note":"caf\u00e9"}}'
captured = []


class Capture(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("content-length", 0))
        captured.append(({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(n)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
threading.Thread(target=server.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{server.server_address[1]}/hook"


def send(scheme, secret, body=BODY):
    captured.clear()
    out = subprocess.run([HOOKLINE, "send", URL, "--scheme", scheme, "--secret", secret, "--raw", "--data", body],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out
    assert len(captured) == 1
    return captured[0]


def hookline_verify(scheme, secret, headers, body):
    args = [HOOKLINE, "verify", "--scheme", scheme, "--secret", secret, "--body-file", "-"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args, input=body.encode(), capture_output=True, timeout=60)
    return out.returncode == 0, out.stdout.decode()


checks = []


def check(name, ok, detail=""):
    checks.append((name, ok))
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f"  {detail}"))


# --- Standard Webhooks: the standardwebhooks and svix libraries ---
import standardwebhooks
import svix.webhooks

WHSEC = "whsec_" + base64.b64encode(os.urandom(24)).decode()
for lib, cls in [("standardwebhooks", standardwebhooks.Webhook), ("svix", svix.webhooks.Webhook)]:
    h, b = send("standard", WHSEC)
    try:
        cls(WHSEC).verify(b, h)
        check(f"standard: {lib} verifies hookline send", True)
    except Exception as e:  # noqa: BLE001
        check(f"standard: {lib} verifies hookline send", False, repr(e))
    try:
        cls(WHSEC).verify(b + b" ", h)
        check(f"standard: {lib} rejects a tampered body", False)
    except Exception:  # noqa: BLE001
        check(f"standard: {lib} rejects a tampered body", True)
    msg_id = "msg_interop1"
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    sig = cls(WHSEC).sign(msg_id, now, BODY)
    hdrs = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": sig}
    ok, out = hookline_verify("standard", WHSEC, hdrs, BODY)
    check(f"standard: hookline verifies {lib}.sign", ok, out)
    ok, _ = hookline_verify("standard", WHSEC, hdrs, BODY + " ")
    check(f"standard: hookline rejects tampered {lib} body", not ok)

# --- Stripe ---
import stripe

SK = "whsec_" + os.urandom(16).hex()
h, b = send("stripe", SK)
try:
    stripe.WebhookSignature.verify_header(b.decode(), h["stripe-signature"], SK, 300)
    ev = stripe.Webhook.construct_event(b.decode(), h["stripe-signature"], SK)
    check("stripe: stripe library verifies hookline send", ev["id"] == "evt_1")
except Exception as e:  # noqa: BLE001
    check("stripe: stripe library verifies hookline send", False, repr(e))
try:
    stripe.WebhookSignature.verify_header(b.decode() + " ", h["stripe-signature"], SK, 300)
    check("stripe: stripe library rejects a tampered body", False)
except stripe.SignatureVerificationError:
    check("stripe: stripe library rejects a tampered body", True)
t = int(time.time())
sig = stripe.WebhookSignature._compute_signature(f"{t}.{BODY}", SK)
ok, out = hookline_verify("stripe", SK, {"Stripe-Signature": f"t={t},v1={sig}"}, BODY)
check("stripe: hookline verifies the stripe library's signature", ok, out)
ok, _ = hookline_verify("stripe", "whsec_other", {"Stripe-Signature": f"t={t},v1={sig}"}, BODY)
check("stripe: hookline rejects a wrong secret", not ok)

# --- Slack ---
from slack_sdk.signature import SignatureVerifier

SS = os.urandom(16).hex()
FORM = "token=abc&team_id=T1&command=%2Fhook&text=hello+world"
h, b = send("slack", SS, FORM)
v = SignatureVerifier(SS)
check("slack: slack_sdk verifies hookline send",
      v.is_valid(body=b, timestamp=h["x-slack-request-timestamp"], signature=h["x-slack-signature"]))
check("slack: slack_sdk rejects a tampered body",
      not v.is_valid(body=b + b"x", timestamp=h["x-slack-request-timestamp"], signature=h["x-slack-signature"]))
ts = str(int(time.time()))
sig = v.generate_signature(timestamp=ts, body=FORM)
ok, out = hookline_verify("slack", SS, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}, FORM)
check("slack: hookline verifies slack_sdk's signature", ok, out)

# --- GitHub: @octokit/webhooks-methods (node) ---
GS = "It's a Secret to Everybody " + os.urandom(4).hex()
h, b = send("github", GS)
with tempfile.NamedTemporaryFile("wb", delete=False) as f:
    f.write(b)
node = subprocess.run(["node", os.path.join(HERE, "github.mjs"), "verify", GS, f.name, h["x-hub-signature-256"]],
                      capture_output=True, text=True, timeout=60)
check("github: @octokit/webhooks-methods verifies hookline send", node.returncode == 0, node.stderr)
node = subprocess.run(["node", os.path.join(HERE, "github.mjs"), "sign", GS, f.name], capture_output=True, text=True,
                      timeout=60)
ok, out = hookline_verify("github", GS, {"X-Hub-Signature-256": node.stdout}, b.decode())
check("github: hookline verifies @octokit/webhooks-methods sign", node.returncode == 0 and ok, node.stderr + out)
os.unlink(f.name)

failed = sum(1 for _, ok in checks if not ok)
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
