"""A local HTTP server that plays Postmark's Email API, and its webhooks, as documented.

- ``POST /email`` with ``X-Postmark-Server-Token``: answers ``{"To", "SubmittedAt",
  "MessageID", "ErrorCode": 0, "Message": "OK"}``; a wrong token is ``401`` (ErrorCode
  10); a recipient Postmark has deactivated (after a hard bounce or a spam complaint) is
  ``422`` with ErrorCode ``406``. Every accepted call is a message in the inbox: Postmark
  documents no idempotency key for sending.
  https://postmarkapp.com/developer/api/email-api#send-a-single-email
  https://postmarkapp.com/developer/api/overview#error-codes
- ``GET /messages/outbound?recipient=&count=&offset=`` (outbound message search): the
  messages sent to that recipient, newest first, ``{"TotalCount", "Messages": [{"MessageID",
  "Recipients", "ReceivedAt", "Status", "Subject", "Metadata"}]}``; ``count`` and
  ``offset`` are required (``422`` otherwise), ``count`` at most 500.
  https://postmarkapp.com/developer/api/messages-api#outbound-message-search
- Webhook payloads, built from Postmark's documented examples: Delivery
  (``RecordType: "Delivery"``, ``MessageID``, ``Recipient``, ``DeliveredAt``), Bounce
  (``RecordType: "Bounce"``, ``ID``, ``Type: "HardBounce"``, ``TypeCode: 1``, ``Email``,
  ``BouncedAt``, ``Inactive: true``), SpamComplaint (``Type: "SpamComplaint"``,
  ``TypeCode: 512``). Postmark signs nothing: a webhook is secured by HTTP basic auth in
  its URL, which is what ``post_webhook`` sends.
  https://postmarkapp.com/developer/webhooks/delivery-webhook
  https://postmarkapp.com/developer/webhooks/bounce-webhook
  https://postmarkapp.com/developer/webhooks/spam-complaint-webhook
  https://postmarkapp.com/developer/webhooks/webhooks-overview#protecting-your-webhook
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVER_TOKEN = "postmark-test-server-token"  # noqa: S105 - the fake server's, not a secret
WEBHOOK_SECRET = "postmark:hook-secret"  # noqa: S105 - a test value


@dataclass
class Sent:
    message_id: str
    to: str
    subject: str
    headers: dict[str, str]
    metadata: dict[str, str]
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakePostmark:
    sent: list[Sent] = field(default_factory=list)
    inactive: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    next_id: int = 0
    # The fault tests: the Nth send is accepted (in the inbox) and its answer held back
    # until ``release`` is set (the crash-in-flight window), ``hanging`` set meanwhile.
    hang_on_call: int = 0
    calls: int = 0
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def inbox(self) -> Counter[str]:
        """Messages each mailbox got, per reminder (the metadata Anymail sent)."""
        with self.lock:
            return Counter(s.metadata.get("reminder", "") for s in self.sent)

    def send(self, token: str | None, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token != SERVER_TOKEN:
            return 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
        to = str(payload.get("To", ""))
        with self.lock:
            if to.lower() in self.inactive:
                return 422, {
                    "ErrorCode": 406,
                    "Message": "You tried to send to a recipient that has been marked as"
                    f" inactive.\n Found inactive addresses: {to.lower()}.\n Inactive"
                    " recipients are ones that have generated a hard bounce or a spam"
                    " complaint. ",
                }
            message_id = str(uuid.uuid4())
            self.sent.append(
                Sent(
                    message_id=message_id,
                    to=to,
                    subject=str(payload.get("Subject", "")),
                    headers={h["Name"]: h["Value"] for h in payload.get("Headers") or []},
                    metadata=dict(payload.get("Metadata") or {}),
                )
            )
            self.calls += 1
            hang = self.calls == self.hang_on_call
        if hang:
            self.hanging.set()
            self.release.wait(timeout=120)
        return 200, {
            "To": to,
            "SubmittedAt": datetime.now(UTC).isoformat(),
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }

    def search(self, token: str | None, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if token != SERVER_TOKEN:
            return 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
        try:
            count, offset = int(query["count"][0]), int(query["offset"][0])
        except (KeyError, ValueError):
            return 422, {"ErrorCode": 600, "Message": "Count and offset are required."}
        if not 0 < count <= 500 or offset < 0 or count + offset > 10_000:
            return 422, {"ErrorCode": 601, "Message": "Count or offset out of range."}
        recipient = query.get("recipient", [""])[0].lower()
        with self.lock:
            found = [s for s in reversed(self.sent) if not recipient or s.to.lower() == recipient]
        page = found[offset : offset + count]
        return 200, {
            "TotalCount": len(found),
            "Messages": [
                {
                    "MessageID": s.message_id,
                    "Recipients": [s.to],
                    "ReceivedAt": s.received_at.isoformat(),
                    "Status": "Sent",
                    "Subject": s.subject,
                    "Metadata": s.metadata,
                }
                for s in page
            ],
        }

    # -- webhook payloads -------------------------------------------------------------------

    def _message(self, message_id: str) -> Sent:
        with self.lock:
            return next(s for s in self.sent if s.message_id == message_id)

    def delivery(self, message_id: str) -> dict[str, Any]:
        sent = self._message(message_id)
        return {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": "outbound",
            "MessageID": message_id,
            "Recipient": sent.to,
            "Tag": "",
            "DeliveredAt": datetime.now(UTC).isoformat(),
            "Details": "Test delivery webhook details",
            "Metadata": sent.metadata,
        }

    def bounce(self, message_id: str, *, kind: str = "HardBounce", code: int = 1) -> dict[str, Any]:
        """A bounce; a hard one deactivates the address, as Postmark does."""
        sent = self._message(message_id)
        with self.lock:
            self.next_id += 1
            if kind == "HardBounce":
                self.inactive.add(sent.to.lower())
        return {
            "RecordType": "Bounce",
            "MessageStream": "outbound",
            "ID": 4323372036854775800 + self.next_id,
            "Type": kind,
            "TypeCode": code,
            "Name": "Hard bounce" if kind == "HardBounce" else kind,
            "Tag": "",
            "MessageID": message_id,
            "Metadata": sent.metadata,
            "ServerID": 23,
            "Description": "The server was unable to deliver your message (ex: unknown user,"
            " mailbox not found).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist",
            "Email": sent.to,
            "From": "careflow@example.org",
            "BouncedAt": datetime.now(UTC).isoformat(),
            "DumpAvailable": False,
            "Inactive": kind == "HardBounce",
            "CanActivate": True,
            "Subject": sent.subject,
        }

    def complaint(self, message_id: str) -> dict[str, Any]:
        payload = self.bounce(message_id, kind="SpamComplaint", code=512)
        with self.lock:
            self.inactive.add(payload["Email"].lower())
        return {**payload, "Name": "Spam complaint", "Inactive": True}


def basic_auth(secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def start_fake_postmark() -> tuple[FakePostmark, ThreadingHTTPServer]:
    state = FakePostmark()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            parts = urlsplit(self.path)
            if parts.path.rstrip("/") != "/messages/outbound":
                self._answer(404, {"ErrorCode": 404, "Message": "Not found"})
                return
            token = self.headers.get("X-Postmark-Server-Token")
            self._answer(*state.search(token, parse_qs(parts.query)))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                status, answer = 422, {"ErrorCode": 402, "Message": "Received invalid JSON input."}
            else:
                if self.path.rstrip("/") != "/email":
                    status, answer = 404, {"ErrorCode": 404, "Message": "Not found"}
                else:
                    status, answer = state.send(
                        self.headers.get("X-Postmark-Server-Token"), payload
                    )
            self._answer(status, answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
