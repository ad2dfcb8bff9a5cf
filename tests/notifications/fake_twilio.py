"""A local HTTP server that plays Twilio's Messages API, for tests (no network).

It records every raw call, and like Twilio it honours ``I-Twilio-Idempotency-Token``: a
second call with a token it has seen answers with the first message and delivers nothing.
Scripted answers (``fail_next``) and a call that hangs (``hang_on_call``) let tests play
outages and a worker killed while the provider is answering; ``answer_delay`` slows every
answer, so a batch is still being sent when a fault test breaks something.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "ACtest00000000000000000000000000"
AUTH_TOKEN = "test-auth-token"  # noqa: S105 - the fake server's, not a secret
FROM_NUMBER = "+15550000000"


@dataclass
class Call:
    token: str | None
    to: str
    body: str
    authorized: bool
    path: str


@dataclass
class FakeTwilio:
    calls: list[Call] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)  # token -> sid
    scripted: list[tuple[int, dict]] = field(default_factory=list)
    hang_on_call: int | None = None  # 1-based number of the call that never gets an answer
    answer_delay: float = 0.0  # seconds before every answer (a provider under load)
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail_next(self, status: int, body: dict | None = None) -> None:
        self.scripted.append((status, body or {"code": 20500, "message": "Internal"}))

    def delivered_tokens(self) -> list[str]:
        return list(self.delivered)

    def raw_tokens(self) -> list[str | None]:
        return [c.token for c in self.calls]

    def accept(self, call: Call) -> tuple[int, dict, bool]:
        """Record the call; the answer, and whether to hang before giving it."""
        with self.lock:
            self.calls.append(call)
            number = len(self.calls)
            if not call.authorized:
                return 401, {"code": 20003, "message": "Authenticate"}, False
            if self.scripted:
                return (*self.scripted.pop(0), False)
            if call.token is not None and call.token in self.delivered:
                # Idempotency: the first answer again, nothing delivered.
                return 201, {"sid": self.delivered[call.token], "status": "queued"}, False
            sid = f"SM{number:032d}"
            if call.token is not None:
                self.delivered[call.token] = sid
            return 201, {"sid": sid, "status": "queued"}, self.hang_on_call == number


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

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            token = self.headers.get("I-Twilio-Idempotency-Token")
            call = Call(
                token=token,
                to=form.get("To", [""])[0],
                body=form.get("Body", [""])[0],
                authorized=self.headers.get("Authorization") == expected,
                path=self.path,
            )
            status, payload, hang = state.accept(call)
            if hang:
                # Accepted (recorded as delivered) but the answer never comes back in time.
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
