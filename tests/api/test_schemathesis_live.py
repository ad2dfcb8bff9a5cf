"""Schemathesis's own CLI, every check and the stateful phase, against a live gunicorn.

`make fuzz` (CI) runs it; `make test` does not (the `fuzz` marker; about two minutes). gunicorn
serves production's settings (Redis cache and rate-limit counters, axes, the real log
format) over plain HTTP on 127.0.0.1, on a test database seeded as `make run` seeds it
(`manage.py seed_demo`). The run is configured by tests/api/schemathesis.toml: what the
schema cannot say is listed there with its reason. Any failure fails the test, with
schemathesis's report; its whole output and gunicorn's log stay in var/fuzz/. The seed is
fixed (1), so a failure in CI replays locally; CAREFLOW_FUZZ_SEED=<n> explores others.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from knox.models import AuthToken
from kombu import Connection, Exchange, Queue

from tests.processes import database_url_for_worker

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
START_TIMEOUT_SECONDS = 30
# The whole run, generation and shrinking included: a hung server fails the test.
RUN_TIMEOUT_SECONDS = 600
# A throttle or a lockout would answer 429 where the schema promises more: far above what a
# run sends (about 3,000 requests a minute from one user and one address).
UNLIMITED = "1000000/minute"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}: see var/fuzz/gunicorn.log")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own http://127.0.0.1
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gunicorn did not start")


def _drop_queue(broker: str, name: str) -> None:
    """Delete the server's private queue and its binding, with the messages nobody took."""
    with Connection(broker) as conn:
        queue = Queue(name, Exchange(name, type="direct"), routing_key=name)(conn.default_channel)
        queue.declare()
        queue.delete()


def _token_for(username: str) -> str:
    _, token = AuthToken.objects.create(get_user_model().objects.get(username=username))
    return token


def test_live_api_passes_every_schemathesis_check(settings) -> None:
    # The dispatches the writes ask for go to a queue of their own, dropped at the end: no
    # test worker on the same Redis ever takes them.
    queue = settings.CAREFLOW_REMINDER_QUEUE = f"fuzz-{os.urandom(6).hex()}"
    call_command("seed_demo", stdout=io.StringIO())
    # The clinician is also the privacy officer here, so "who read this patient" is fuzzed
    # past its 403.
    get_user_model().objects.get(username="clinician").user_permissions.add(
        Permission.objects.get(codename="view_accessrecord")
    )
    out = Path(settings.VAR_DIR) / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url_for_worker(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SECRET_KEY": "fuzzing-only-" + os.urandom(24).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on 127.0.0.1: no TLS proxy in front to redirect to.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "CAREFLOW_API_RATE_USER": UNLIMITED,
        "CAREFLOW_API_RATE_ANON": UNLIMITED,
        "CAREFLOW_API_RATE_LOGIN": UNLIMITED,
        "CAREFLOW_REMINDER_QUEUE": queue,
    }
    run_env = {
        **os.environ,
        "CAREFLOW_FUZZ_TOKEN": _token_for("clinician"),
        "CAREFLOW_FUZZ_LOGOUT_TOKEN": _token_for("clinician"),
    }
    seed = os.environ.get("CAREFLOW_FUZZ_SEED", "1")
    report = out / "schemathesis.txt"
    with (out / "gunicorn.log").open("wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60"),
            ],
            cwd=settings.BASE_DIR,  # where gunicorn.conf.py is read from
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(f"{url}/api/schema/", server)
            with report.open("w") as sink:
                run = subprocess.run(
                    [
                        str(Path(sys.executable).with_name("schemathesis")),
                        *("--config-file", str(CONFIG)),
                        *("run", f"{url}/api/schema/", "--checks", "all", "--seed", seed),
                        "--no-color",
                    ],
                    cwd=settings.BASE_DIR,
                    env=run_env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    timeout=RUN_TIMEOUT_SECONDS,
                    check=False,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
            _drop_queue(settings.CELERY_BROKER_URL, queue)
    text = report.read_text()
    summary = text[text.find("=== SUMMARY") if "=== SUMMARY" in text else 0 :]
    print(summary)  # noqa: T201 - `make fuzz` shows how many cases ran
    if run.returncode != 0:
        failures = text[text.find("=== FAILURES") :] if "=== FAILURES" in text else text
        pytest.fail(f"schemathesis failed (var/fuzz/schemathesis.txt):\n{failures[-20000:]}")
    generated = re.search(r"(\d+) generated", text)
    assert generated, summary
    assert int(generated.group(1)) > 1000, summary
