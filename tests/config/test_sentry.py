"""Sentry reports leave without patient data: real events, through the SDK, to a local server.

``tests/config/sentry_probe.py`` runs in its own process with ``SENTRY_DSN`` naming an HTTP
server here, which keeps every envelope the SDK posts (what sentry.io would receive). The
envelopes must carry the errors (their types and stack frames) and none of the patient's
details the probe put in the exception message, the frame's locals, the body, the query
string, the cookies, the headers and the log arguments.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from config.sentry import init_sentry, scrub_event
from tests.config.sentry_probe import PATIENT, TOKEN


class Capture(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def events(envelopes: list[bytes]) -> list[dict]:
    """The event items of Sentry envelopes (header line, then item header / payload pairs)."""
    found = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_events_reach_sentry_with_their_stack_and_without_the_patient(sentry_server):
    port = sentry_server.server_address[1]
    result = subprocess.run(
        [sys.executable, "-m", "tests.config.sentry_probe"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/42",
            "SENTRY_ENVIRONMENT": "test",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "status=500" in result.stdout
    raw = b"\n".join(sentry_server.received).decode()
    found = events(sentry_server.received)
    assert len(found) >= 2, raw[:3000]

    crash = next(e for e in found if e.get("exception"))
    (error,) = [v for v in crash["exception"]["values"] if v["type"] == "ValueError"]
    assert error["value"] == "[scrubbed]"
    frames = error["stacktrace"]["frames"]
    assert any(f["function"] == "boom" for f in frames)
    assert all("vars" not in f for f in frames)
    assert crash["request"]["method"] == "POST"
    assert crash["request"]["url"] == "http://127.0.0.1/enrol/{token}/"
    assert set(crash["request"]["headers"]) == {"Content-Type", "Content-Length", "X-Request-Id"}
    assert crash["environment"] == "test"
    logged = next(e for e in found if (e.get("logentry") or {}).get("message"))
    assert logged["logentry"]["message"] == "lookup failed for %s %s"

    for detail in (*PATIENT.values(), TOKEN, "Quixotic", "Zebulon", "5557654321", "1953"):
        assert detail not in raw, detail


def test_no_dsn_starts_nothing():
    assert init_sentry(dsn="", environment="production") is False


def test_fields_the_scrubber_has_never_heard_of_are_dropped():
    event = {
        "extra": {"celery-job": {"args": [PATIENT["phone"]]}},
        "contexts": {"runtime": {"name": "CPython"}, "patient": {"name": PATIENT["given_name"]}},
        "user": {"id": 7, "email": PATIENT["email"], "ip_address": "10.0.0.1"},
        "message": PATIENT["note"],
        "breadcrumbs": {
            "values": [{"category": "query", "message": PATIENT["family_name"], "data": {}}]
        },
    }
    scrubbed = scrub_event(event)
    assert scrubbed["contexts"] == {"runtime": {"name": "CPython"}}
    assert scrubbed["user"] == {"id": 7}
    assert "extra" not in scrubbed
    assert scrubbed["breadcrumbs"]["values"] == [{"category": "query"}]
    assert PATIENT["note"] not in json.dumps(scrubbed)
