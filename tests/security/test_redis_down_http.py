"""Over real HTTP: with Redis unreachable the API keeps working.

The check-in page too; their limits fail open, and the red-flag alert waits in the database.

The live server uses the production cache configuration (config/settings/base.py) pointed
at a port where nothing listens, as do the Celery broker and /healthz.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import urlencode

import pytest

from config.settings import base
from episodes.models import RedFlag
from notifications.checkins.tokens import checkin_token_for
from notifications.models import CheckIn, Reminder
from tests.factories import new_episode
from tests.proxy import request

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {"default": {**base.CACHES["default"], "LOCATION": url}}
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    # Limits low enough that a working limit would refuse the second request.
    settings.CAREFLOW_API_RATES = {"user": "1/minute", "anon": "1/minute", "login": "1/minute"}
    return url


def _json(live_server, method, path, token=None, body=None):
    headers = {"Authorization": f"Token {token}"} if token else {}
    return request(live_server.url, method, path, body=body, headers=headers)


def test_api_and_checkin_work_with_redis_down(redis_down, live_server, patient, coordinator):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    body = {"username": "coord-a", "password": "pw-for-tests"}
    status, _, content = _json(live_server, "POST", "/api/auth/token/", body=body)
    assert status == 200, content
    assert _json(live_server, "POST", "/api/auth/token/", body=body)[0] == 200
    token = re.search(rb'"token":"([^"]+)"', content).group(1).decode()

    for _ in range(2):
        assert _json(live_server, "GET", f"/api/episodes/{episode.pk}/", token)[0] == 200
    status, _, content = _json(
        live_server,
        "POST",
        f"/api/episodes/{episode.pk}/red-flags/",
        token,
        {"sign": "fever"},
    )
    assert status == 201, content
    flag = RedFlag.objects.get(episode=episode, sign="fever")
    alert = Reminder.objects.get(milestone=f"red_flag:{flag.pk}")
    assert alert.status == "scheduled"  # the outbox row: sent once Redis is back

    # The patient's check-in reporting saddle numbness is recorded too.
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    path = f"/check-in/{checkin_token_for(reminder)}/"
    status, headers, page = request(live_server.url, "GET", path)
    assert status == 200
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    form = urlencode(
        {
            "csrfmiddlewaretoken": csrf,
            "overall": "worse",
            "disabling": "no",
            "symptoms": "saddle_numbness",
        }
    )
    status, _, _ = request(
        live_server.url, "POST", path, form=form, headers={"Cookie": f"csrftoken={cookie}"}
    )
    assert status == 200
    assert CheckIn.objects.filter(reminder=reminder).exists()
    saddle = RedFlag.objects.get(episode=episode, sign="saddle_anesthesia")
    assert Reminder.objects.filter(milestone=f"red_flag:{saddle.pk}", status="scheduled").exists()

    # /healthz says Redis is down while all of the above worked.
    status, _, content = request(live_server.url, "GET", "/healthz")
    assert status == 503
    assert b'"redis": {"ok": false}' in content
