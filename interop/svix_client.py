"""Svix's own client library, unchanged, against hookline serve.

Starts `hookline serve` on a free port with a temporary database, a local
receiver, then drives apps, endpoints and messages through the `svix` package
and checks the delivery with Svix's own webhook verifier.
Usage: python3 svix_client.py PATH_TO_HOOKLINE_BINARY
"""

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from datetime import datetime, timedelta, timezone

from svix.api import (ApplicationIn, EndpointIn, EndpointSecretRotateIn, EventExampleIn,
                      MessageIn, RecoverIn, Svix, SvixOptions)
from svix.exceptions import HttpError
from svix.webhooks import Webhook

HOOKLINE = sys.argv[1]
TOKEN = "interop-admin-token"
received = []


class Capture(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("content-length", 0))
        received.append(({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


rx = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
threading.Thread(target=rx.serve_forever, daemon=True).start()
port = free_port()
workdir = tempfile.mkdtemp()
server = subprocess.Popen(
    [HOOKLINE, "serve", "--host", "127.0.0.1", "--port", str(port), "--database-url", f"sqlite://{workdir}/db"],
    env={**os.environ, "HOOKLINE_ADMIN_TOKEN": TOKEN, "HOOKLINE_ALLOWED_SUBNETS": "127.0.0.0/8"},
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
)
checks = []


def check(name, ok, detail=""):
    checks.append(ok)
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f"  {detail}"))


try:
    assert "listening" in server.stdout.readline()
    svix = Svix(TOKEN, SvixOptions(server_url=f"http://127.0.0.1:{port}"))
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme"))
    check("application.create", app.id.startswith("app_") and app.uid == "acme")
    check("application.get by uid", svix.application.get("acme").id == app.id)
    check("application.get_or_create", svix.application.get_or_create(ApplicationIn(name="Acme", uid="acme")).id == app.id)
    ep = svix.endpoint.create(app.id, EndpointIn(url=f"http://127.0.0.1:{rx.server_address[1]}/hook", version=1,
                                                   event_types=["invoice.paid"]))
    check("endpoint.create", ep.id.startswith("ep_") and ep.event_types == ["invoice.paid"], repr(ep))
    secret = svix.endpoint.get_secret(app.id, ep.id).key
    check("endpoint.get_secret", secret.startswith("whsec_"))
    msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", event_id="evt-42",
                                                payload={"id": "in_1", "amount": 4200}))
    check("message.create", msg.id.startswith("msg_") and msg.payload == {"id": "in_1", "amount": 4200})
    try:
        svix.message.create(app.id, MessageIn(event_type="invoice.paid", event_id="evt-42", payload={}))
        check("duplicate eventId is refused", False)
    except HttpError as e:
        check("duplicate eventId is a 409 HttpError", e.status_code == 409, repr(e))
    deadline = time.time() + 10
    while not received and time.time() < deadline:
        time.sleep(0.02)
    check("delivered", len(received) == 1)
    headers, body = received[0]
    try:
        Webhook(secret).verify(body, headers)
        check("svix.webhooks.Webhook verifies the delivery", True)
    except Exception as e:  # noqa: BLE001
        check("svix.webhooks.Webhook verifies the delivery", False, repr(e))
    check("webhook-id is the message id", headers.get("webhook-id") == msg.id)
    attempts = []
    while not attempts and time.time() < deadline:
        attempts = svix.message_attempt.list_by_msg(app.id, msg.id).data
        time.sleep(0.02)
    check("message_attempt.list_by_msg", len(attempts) == 1 and attempts[0].response_status_code == 204, repr(attempts))
    listed = svix.message.list(app.id)
    check("message.list", len(listed.data) == 1 and listed.done)
    one = svix.message_attempt.get(app.id, msg.id, attempts[0].id)
    check("message_attempt.get", one.id == attempts[0].id and one.response_status_code == 204, repr(one))
    stats = svix.endpoint.get_stats(app.id, ep.id)
    check("endpoint.get_stats", stats.success == 1 and stats.fail == 0, repr(stats))
    example = svix.endpoint.send_example(app.id, ep.id, EventExampleIn(event_type="svix.ping"))
    check("endpoint.send_example (svix.ping)", example.payload == {"success": True}, repr(example))
    while len(received) < 2 and time.time() < deadline:
        time.sleep(0.02)
    check("the example is delivered", len(received) == 2 and received[1][1] == b'{"success":true}')
    svix.endpoint.rotate_secret(app.id, ep.id, EndpointSecretRotateIn())
    check("endpoint.rotate_secret", svix.endpoint.get_secret(app.id, ep.id).key != secret)
    svix.message_attempt.resend(app.id, msg.id, ep.id)
    while len(received) < 3 and time.time() < deadline + 10:
        time.sleep(0.02)
    check("message_attempt.resend delivers again", len(received) == 3 and received[2][0].get("webhook-id") == msg.id)
    recovered = svix.endpoint.recover(app.id, ep.id, RecoverIn(since=datetime.now(timezone.utc) - timedelta(hours=1)))
    check("endpoint.recover", recovered.status is not None, repr(recovered))
    # hookline's endpoint filter (an extension), set over plain HTTP: Svix's
    # client keeps working with the endpoint, and only matching messages go.
    patch = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/app/{app.id}/endpoint/{ep.id}", method="PATCH",
        data=json.dumps({"filter": {"body": {"amount": {"$gte": 1000}}}}).encode(),
        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
    urllib.request.urlopen(patch).read()
    got = svix.endpoint.get(app.id, ep.id)
    check("endpoint.get parses an endpoint with a filter", got.id == ep.id and got.url == ep.url, repr(got))
    before = len(received)
    svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"amount": 5}))
    big = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"amount": 5000}))
    deadline = time.time() + 10
    while len(received) <= before and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    new = received[before:]
    check("the filter lets only the matching message through",
          len(new) == 1 and new[0][0].get("webhook-id") == big.id, repr([h.get("webhook-id") for h, _ in new]))
    listed = svix.endpoint.list(app.id)
    check("endpoint.list parses endpoints with a filter", any(e.id == ep.id for e in listed.data))
    svix.endpoint.delete(app.id, ep.id)
    svix.application.delete(app.id)
    try:
        svix.application.get(app.id)
        check("deleted app is gone", False)
    except HttpError as e:
        check("deleted app is a 404", e.status_code == 404)
finally:
    server.terminate()
    server.wait(timeout=30)

failed = checks.count(False)
print(f"{len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
