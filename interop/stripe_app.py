"""A user's app behind hookline: verifies every webhook with Stripe's own
library, as the app would if Stripe called it directly.

Usage: python3 stripe_app.py PORT SECRET LOG_FILE
Answers 200 to a request Stripe's library accepts and 400 to one it refuses,
and appends one line per request to LOG_FILE: "<X-Hookline-Event-Id> ok|bad".
"""

import http.server
import sys

import stripe

PORT, SECRET, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class App(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            stripe.Webhook.construct_event(body, self.headers.get("stripe-signature"), SECRET)
            verdict, status = "ok", 200
        except (ValueError, stripe.error.SignatureVerificationError):
            verdict, status = "bad", 400
        with open(LOG, "a") as f:
            f.write(f"{self.headers.get('x-hookline-event-id')} {verdict}\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), App).serve_forever()
