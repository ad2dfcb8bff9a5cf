"""A rest-hook endpoint for the subscription tests: a real HTTP server on 127.0.0.1.

A ``ThreadingHTTPServer`` on a free port, in a thread of the test process: it keeps every
notification it is sent (path, headers, parsed JSON body) and answers each with the next
status of ``answers`` (then 200), after ``delay`` seconds if set (a slow endpoint).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.received.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": json.loads(raw),
                            "status": status,
                            "at": time.monotonic(),
                        }
                    )
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet: no request lines in the test log
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self, kind: str | None = None) -> list[dict]:
        with self._lock:
            bodies = [r["body"] for r in self.received if r["status"] == 200]
        if kind is None:
            return bodies
        return [b for b in bodies if b["entry"][0]["resource"]["type"] == kind]

    def wait_for(self, count: int, kind: str, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.bodies(kind)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{count} {kind} notification(s) not received in {timeout} s")
            time.sleep(0.05)
        return self.bodies(kind)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def subscription_body(endpoint: str, topic: str, content: str = "id-only", **channel) -> dict:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Tell the EHR",
        "criteria": f"https://careflow.example.org/fhir/SubscriptionTopic/{topic}",
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
                        "valueCode": content,
                    }
                ]
            },
            **channel,
        },
    }
