"""A real gunicorn serves check-in links and searches; no log carries a token, name or birth date.

gunicorn starts with the project's gunicorn.conf.py; its access log and Django's log are read.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from notifications.checkins.tokens import checkin_token_for
from notifications.models import Reminder
from tests.factories import new_episode
from tests.processes import database_url_for_worker
from tests.proxy import request

pytestmark = pytest.mark.django_db(transaction=True)

START_TIMEOUT_SECONDS = 30


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            request(url, "GET", "/api/schema/")
        except OSError:
            time.sleep(0.2)
        else:
            return
    pytest.fail("gunicorn did not start")


def test_checkin_tokens_never_reach_the_logs(tmp_path, patient, coordinator):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    token = checkin_token_for(reminder)
    forged = token[:-4] + "AAAA"
    port = _free_port()
    access_log, output = tmp_path / "access.log", tmp_path / "output.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_worker(connection.settings_dict),
    }
    with output.open("wb") as sink:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--access-logfile",
                str(access_log),
                "--env",
                "DJANGO_SETTINGS_MODULE=config.settings.test",
            ],
            cwd=settings.BASE_DIR,  # where gunicorn.conf.py is read from
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url)
            assert request(url, "GET", f"/check-in/{token}/")[0] == 200
            assert request(url, "GET", f"/check-in/{forged}/")[0] == 404
            assert request(url, "GET", f"/check-in/{forged}/x/")[0] == 404  # Django's 404 log
            request(
                url,
                "GET",
                "/static/checkin/checkin.css",
                headers={"Referer": f"{url}/check-in/{token}/"},
            )
            # Searches that name a patient, answered or not: no name or birth date logged.
            for path in (
                "/fhir/Patient?birthdate=1960-06-06&_count=5",
                "/fhir/Patient?name:contains=Zebedee",
                "/api/patients/?q=Quillfeather",
            ):
                request(url, "GET", path)
        finally:
            server.terminate()
            server.wait(timeout=30)
    logs = access_log.read_text() + output.read_text()
    assert "/check-in/[redacted]/" in access_log.read_text()
    assert "Not Found: /check-in/[redacted]/" in output.read_text()
    for secret in (token, forged, token.split(":")[0], forged.split(":")[-1]):
        assert secret not in logs
    for secret in ("1960-06-06", "Zebedee", "Quillfeather"):
        assert secret not in logs
    assert "/fhir/Patient?birthdate=[redacted]&_count=5" in access_log.read_text()
