"""Token and login attempts are rate-limited; API users are throttled; lockouts expire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from config.settings import base
from tests.clients import client_for
from tests.factories import UserFactory

TOKEN_ENDPOINT = "/api/auth/token/"  # noqa: S105 - a URL, not a password


# 20 seconds into a minute: the limits count in the clock's minutes (api/throttles.py).
MID_MINUTE = datetime(2026, 11, 26, 9, 30, 20, tzinfo=UTC)


def test_api_user_throttle(settings, coordinator):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "user": "3/minute"}
    with time_machine.travel(MID_MINUTE, tick=False):
        client = client_for(coordinator)
        codes = [client.get("/api/queues/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/api/queues/")
    assert response.json()["error"] == "throttled"
    assert response.headers["Retry-After"] == "40"  # when the minute ends


@pytest.fixture
def redis_cache(settings):
    """The production cache on the tests' Redis, under a prefix of this test's own."""
    settings.CACHES = {
        "default": {
            **base.CACHES["default"],
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex}",
        }
    }


def test_api_user_throttle_counts_in_redis_per_minute(settings, redis_cache, coordinator):
    """The count of a minute is one Redis counter; the next minute starts anew."""
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "user": "2/minute"}
    with time_machine.travel(MID_MINUTE, tick=False):
        client = client_for(coordinator)
        codes = [client.get("/api/queues/").status_code for _ in range(3)]
        refused = client.get("/api/queues/")
    assert codes == [200, 200, 429]
    assert refused.json()["error"] == "throttled"
    assert refused.headers["Retry-After"] == "40"
    # Another user has a count of their own.
    with time_machine.travel(MID_MINUTE, tick=False):
        other = client_for(UserFactory(username="coord-z"))
        assert other.get("/api/queues/").status_code == 200
    # The next minute: requests are let through again.
    with time_machine.travel(MID_MINUTE + timedelta(seconds=41), tick=False):
        assert client.get("/api/queues/").status_code == 200
    # The minute's counter is in Redis, kept for a minute at most.
    window = int(MID_MINUTE.timestamp()) // 60
    key = cache.make_key(f"throttle_user_{coordinator.pk}_{window}")
    redis = cache._cache.get_client(write=False)  # noqa: SLF001 - reading what was stored
    assert int(redis.get(key)) == 4  # that minute's four, refused ones too
    assert 0 < redis.ttl(key) <= 60  # a minute


def test_anonymous_throttle_on_what_anonymous_clients_may_read(settings, db):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "anon": "2/minute"}
    client = APIClient()
    codes = [client.get("/api/schema/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_token_requests_are_limited_per_address(settings, coordinator):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "login": "3/minute"}
    client = APIClient()
    body = {"username": "coord-a", "password": "wrong"}
    codes = [client.post(TOKEN_ENDPOINT, body, format="json").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def test_token_login_locks_out_after_repeated_failures(axes_on, coordinator):
    client = APIClient(REMOTE_ADDR="10.9.8.7")
    wrong = {"username": "coord-a", "password": "wrong"}
    codes = [client.post(TOKEN_ENDPOINT, wrong, format="json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]  # the third failure reaches the limit
    right = {"username": "coord-a", "password": "pw-for-tests"}
    locked = client.post(TOKEN_ENDPOINT, right, format="json")
    assert locked.status_code == 429
    assert locked.json()["error"] == "locked_out"
    # Another address is not locked out of the same account.
    other = APIClient(REMOTE_ADDR="10.9.8.8")
    assert other.post(TOKEN_ENDPOINT, right, format="json").status_code == 200


def test_token_login_works_before_the_limit(axes_on, coordinator):
    client = APIClient()
    client.post(TOKEN_ENDPOINT, {"username": "coord-a", "password": "wrong"}, format="json")
    ok = client.post(
        TOKEN_ENDPOINT, {"username": "coord-a", "password": "pw-for-tests"}, format="json"
    )
    assert ok.status_code == 200
    assert ok.json()["token"]


def test_admin_login_locks_out(axes_on, client, superuser):
    wrong = {"username": "root-admin", "password": "nope", "next": "/admin/"}
    codes = [client.post("/admin/login/", wrong).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    right = {"username": "root-admin", "password": "pw", "next": "/admin/"}
    assert client.post("/admin/login/", right).status_code == 429


def test_workspace_login_spray_is_limited_per_address(settings, client, db):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "login": "3/minute"}
    with time_machine.travel(MID_MINUTE, tick=False):
        codes = [
            client.post(
                "/login/", {"username": f"user-{n}", "password": "nope"}, REMOTE_ADDR="203.0.113.9"
            ).status_code
            for n in range(4)
        ]
        refused = client.post(
            "/login/", {"username": "user-9", "password": "nope"}, REMOTE_ADDR="203.0.113.9"
        )
        colleague = client.post(
            "/login/", {"username": "user-0", "password": "nope"}, REMOTE_ADDR="198.51.100.7"
        )
    assert codes == [200, 200, 200, 429]  # a wrong password redraws the form: 200
    assert "Too many sign-in attempts from this address" in refused.content.decode()
    assert colleague.status_code == 200  # another address has a count of its own
