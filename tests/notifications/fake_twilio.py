"""A local HTTP server that plays Twilio's Messages API as Twilio documents it, no kinder.

What it does, and the page that says Twilio does it:

- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` creates a message and answers ``201``
  with its JSON, status ``queued``. Every create is a new message: the Messages API
  documents no idempotency key for creating one (the ``I-Twilio-Idempotency-Token``
  header is one Twilio *sends* on its webhooks, so a receiver can drop retries), so a
  repeated create is a second SMS on the patient's phone.
  https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
  https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides
- ``GET …/Messages.json`` lists the account's messages, newest first, filtered by ``To``,
  ``From`` and ``DateSent`` / ``DateSent<`` / ``DateSent>``. ``DateSent`` filters are GMT
  *dates* ("Specify a date as YYYY-MM-DD in GMT"): only the date part of the value
  counts. ``date_sent`` is "when Twilio sent the message", so a message still ``queued``
  has none and no ``DateSent`` filter finds it (the reconciliation lists without one).
  https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources
- Status callbacks: "A status callback request is not sent for the initial status" —
  none for ``queued``; then ``sent`` and ``delivered`` (or ``undelivered`` / ``failed``
  with an ``ErrorCode``), as ``application/x-www-form-urlencoded`` POSTs to the message's
  ``StatusCallback``, each signed with ``X-Twilio-Signature`` (HMAC-SHA1 of the URL and
  the sorted parameters with the auth token: the library's ``compute_signature``) and
  carrying an ``I-Twilio-Idempotency-Token`` that a retry of the same callback repeats.
  https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
  https://www.twilio.com/docs/usage/webhooks/webhooks-security
- Errors: JSON ``{"code", "message", "more_info", "status"}`` with the HTTP status.
  https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions
- A patient's own SMS to our number (``incoming``): Twilio POSTs the incoming-message
  webhook (``MessageSid``, ``AccountSid``, ``From``, ``To``, ``Body``, ``NumMedia``…), signed
  like a status callback. A message that is exactly one of Twilio's keywords (whole body,
  any case) is handled by Twilio first: an opt-out word (STOP, STOPALL, UNSUBSCRIBE,
  CANCEL, END, QUIT, REVOKE, OPTOUT) blocks every later message from our number to that
  phone (a create answers ``400`` with code 21610) until an opt-in word (START, YES,
  UNSTOP); HELP and INFO are answered by Twilio. With Advanced Opt-Out on our Messaging
  Service the webhook also carries ``OptOutType`` (``STOP``, ``START`` or ``HELP``).
  https://www.twilio.com/docs/messaging/guides/webhook-request
  https://help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
  https://help.twilio.com/articles/31560110671259-How-to-Track-Opt-Out-Opt-In-and-Help-Messages-Using-the-OptOutType-Parameter
  https://www.twilio.com/docs/api/errors/21610

Test controls: scripted answers (``fail_next``), a call that hangs after the message was
accepted (``hang_on_call``: a worker killed while Twilio answers), ``answer_delay`` (a
provider under load), ``send_delay`` (how long a message stays ``queued`` before Twilio
sends it), ``undeliverable`` (numbers whose messages end ``undelivered`` with a code).
Callbacks are collected in ``callbacks``; a test posts them (``post_callbacks``), or
``callback_http`` makes the server POST them itself.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
ACCOUNT_SID = "ACtest00000000000000000000000000"
AUTH_TOKEN = "test-auth-token"  # noqa: S105 - the fake server's, not a secret
FROM_NUMBER = "+15550000000"


@dataclass
class Call:
    method: str
    path: str
    to: str
    body: str
    authorized: bool


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: datetime
    status_callback: str
    date_sent: datetime | None = None
    error_code: int | None = None

    def resource(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": ACCOUNT_SID,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "direction": "outbound-api",
            "date_created": format_datetime(self.date_created, usegmt=True),
            "date_sent": format_datetime(self.date_sent, usegmt=True) if self.date_sent else None,
            "error_code": self.error_code,
            "num_segments": "1",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{self.sid}.json",
        }


@dataclass
class Callback:
    url: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeTwilio:
    calls: list[Call] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    scripted: list[tuple[int, dict]] = field(default_factory=list)
    hang_on_call: int | None = None  # 1-based number of the create that never gets an answer
    answer_delay: float = 0.0  # seconds before every answer (a provider under load)
    send_delay: float = 0.2  # seconds a message stays queued before Twilio sends it
    undeliverable: dict[str, int] = field(default_factory=dict)  # number -> ErrorCode
    callback_http: bool = False
    fail_lists: int = 0  # list calls still to answer 503 (Twilio unavailable)
    advanced_opt_out: bool = True  # our Messaging Service's Advanced Opt-Out: OptOutType sent
    opted_out: set[str] = field(default_factory=set)  # phones that texted an opt-out word
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail_next(self, status: int, body: dict | None = None) -> None:
        self.scripted.append((status, body or {"code": 20500, "message": "Internal"}))

    def creates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST"]

    def raw_tokens(self) -> list[str | None]:
        """For each create call (accepted or not), the reminder its body names."""
        from notifications.channels.sms import reminder_key_in  # noqa: PLC0415 - Django

        return [reminder_key_in(c.body) for c in self.creates()]

    def received(self) -> Counter[str | None]:
        """Messages the patients' phones got, per reminder their body names."""
        from notifications.channels.sms import reminder_key_in  # noqa: PLC0415 - Django

        with self.lock:
            bodies = [m.body for m in self.messages]
        return Counter(reminder_key_in(body) for body in bodies)

    @property
    def delivered(self) -> dict[str | None, str]:
        """Reminder key -> sid of the first message accepted for it."""
        from notifications.channels.sms import reminder_key_in  # noqa: PLC0415 - Django

        with self.lock:
            messages = list(self.messages)
        found: dict[str | None, str] = {}
        for message in messages:
            found.setdefault(reminder_key_in(message.body), message.sid)
        return found

    def messages_to(self, number: str) -> list[Message]:
        """What the phone at ``number`` received: every message Twilio accepted for it."""
        with self.lock:
            return [m for m in self.messages if m.to == number]

    # -- creating ---------------------------------------------------------------------------

    def create(self, call: Call, form: dict[str, str]) -> tuple[int, dict, bool]:
        """Record the call; the answer, and whether to hang before giving it."""
        with self.lock:
            self.calls.append(call)
            number = len(self.creates())
            if not call.authorized:
                return 401, _error(20003, "Authenticate", 401), False
            if self.scripted:
                status, body = self.scripted.pop(0)
                return status, {**body, "status": status}, False
            if not form.get("To") or not (form.get("Body") or form.get("MediaUrl")):
                return 400, _error(21602, "Message body is required.", 400), False
            if form["To"] in self.opted_out:
                return 400, _error(21610, "Attempt to send to unsubscribed recipient", 400), False
            message = Message(
                sid=f"SM{uuid.uuid4().hex}",
                to=form["To"],
                from_=form.get("From", ""),
                body=form["Body"],
                status="queued",
                date_created=datetime.now(UTC).replace(microsecond=0),
                status_callback=form.get("StatusCallback", ""),
            )
            self.messages.append(message)
        threading.Thread(target=self._progress, args=(message,), daemon=True).start()
        return 201, message.resource(), self.hang_on_call == number

    def _progress(self, message: Message) -> None:
        """Queued -> sent -> delivered (or undelivered), a callback for each change."""
        time.sleep(self.send_delay)
        with self.lock:
            message.status, message.date_sent = "sent", datetime.now(UTC).replace(microsecond=0)
        self._callback(message)
        with self.lock:
            code = self.undeliverable.get(message.to)
            message.status = "undelivered" if code else "delivered"
            message.error_code = code
        self._callback(message)

    def _callback(self, message: Message) -> None:
        if not message.status_callback:
            return
        params = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": message.status,
            "SmsStatus": message.status,
            "To": message.to,
            "From": message.from_,
        }
        if message.error_code:
            params["ErrorCode"] = str(message.error_code)
        callback = Callback(
            url=message.status_callback,
            params=params,
            headers=sign(params, message.status_callback),
        )
        with self.lock:
            self.callbacks.append(callback)
        if self.callback_http:
            _post(callback)

    # -- listing ----------------------------------------------------------------------------

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            return query[name][0] if name in query else None

        day = {
            k: (v[:10] if v else None)
            for k in ("DateSent", "DateSent<", "DateSent>")
            for v in [one(k)]
        }
        with self.lock:
            found = [
                m
                for m in reversed(self.messages)
                if (one("To") is None or m.to == one("To"))
                and (one("From") is None or m.from_ == one("From"))
                and _date_matches(m.date_sent, day)
            ]
        size = min(int(one("PageSize") or 50), 1000)
        page = int(one("Page") or 0)
        chunk = found[page * size : (page + 1) * size]
        more = len(found) > (page + 1) * size
        base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        return {
            "messages": [m.resource() for m in chunk],
            "page": page,
            "page_size": size,
            "first_page_uri": f"{base}?PageSize={size}&Page=0",
            "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}" if more else None,
            "previous_page_uri": None,
            "uri": f"{base}?PageSize={size}&Page={page}",
            "start": page * size,
            "end": page * size + len(chunk) - 1,
        }

    def get(
        self, path: str, query: dict[str, list[str]], *, authorized: bool
    ) -> tuple[int, dict[str, Any]]:
        """A GET: the list call, or an error as Twilio answers it."""
        with self.lock:
            self.calls.append(Call("GET", path, "", "", authorized))
            unavailable, self.fail_lists = self.fail_lists > 0, max(self.fail_lists - 1, 0)
        if not authorized:
            return 401, _error(20003, "Authenticate", 401)
        if unavailable:
            return 503, _error(20503, "Service Unavailable", 503)
        if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return 404, _error(20404, "The requested resource was not found", 404)
        return 200, self.list(query)

    # -- a patient's phone writing to our number ---------------------------------------------

    def incoming(self, *, from_: str, body: str, url: str) -> Callback:
        """The incoming-message webhook Twilio posts to ``url`` for ``body`` from ``from_``.

        Keywords are Twilio's first: an opt-out word blocks ``from_``, an opt-in word lifts
        the block; with Advanced Opt-Out the webhook names the keyword's ``OptOutType``.
        """
        sid = f"SM{uuid.uuid4().hex}"
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": from_,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        word = body.strip().upper()
        kind = (
            "STOP"
            if word in OPT_OUT_KEYWORDS
            else "START"
            if word in OPT_IN_KEYWORDS
            else "HELP"
            if word in HELP_KEYWORDS
            else ""
        )
        with self.lock:
            if kind == "STOP":
                self.opted_out.add(from_)
            elif kind == "START":
                self.opted_out.discard(from_)
        if kind and self.advanced_opt_out:
            params["OptOutType"] = kind
        return Callback(url=url, params=params, headers=sign(params, url))

    def post_callbacks(self, post) -> list[Any]:
        """Hand each collected callback to ``post(url, params, headers)``; their answers."""
        with self.lock:
            pending, self.callbacks = self.callbacks, []
        return [post(c.url, c.params, c.headers) for c in pending]


def sign(params: dict[str, str], url: str, *, token: str = AUTH_TOKEN) -> dict[str, str]:
    """The headers Twilio sends with a webhook: its signature and an idempotency token."""
    return {
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, params),
        "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
    }


def _date_matches(sent: datetime | None, day: dict[str, str | None]) -> bool:
    if not any(day.values()):
        return True
    if sent is None:  # still queued: no sent date to filter on
        return False
    on = sent.date().isoformat()
    return (
        (day["DateSent"] is None or on == day["DateSent"])
        and (day["DateSent<"] is None or on <= day["DateSent<"])
        and (day["DateSent>"] is None or on >= day["DateSent>"])
    )


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _post(callback: Callback) -> None:
    data = "&".join(
        f"{urllib.request.quote(k)}={urllib.request.quote(v)}" for k, v in callback.params.items()
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - a test server's callback URL
        callback.url,
        data=data,
        headers={**callback.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    # Twilio does not retry a status callback without connection overrides.
    with contextlib.suppress(OSError):
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


def start_fake_twilio() -> tuple[FakeTwilio, ThreadingHTTPServer]:
    state = FakeTwilio()
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client went away (a killed worker)

        def do_GET(self):
            parts = urlsplit(self.path)
            authorized = self.headers.get("Authorization") == expected
            self._answer(*state.get(parts.path, parse_qs(parts.query), authorized=authorized))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            call = Call(
                method="POST",
                path=self.path,
                to=form.get("To", ""),
                body=form.get("Body", ""),
                authorized=self.headers.get("Authorization") == expected,
            )
            status, payload, hang = state.create(call, form)
            if hang:
                # Accepted (the message goes out) but the answer never comes back in time.
                state.hanging.set()
                state.release.wait(timeout=60)
            if state.answer_delay:
                time.sleep(state.answer_delay)
            self._answer(status, payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
