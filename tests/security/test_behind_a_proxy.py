"""Over real HTTP, behind a reverse proxy: limits and lockouts go by the real address.

A live server behind ``tests/proxy.py`` (it appends the peer's address to
``X-Forwarded-For`` as nginx does); clients connect from different loopback addresses, so
"the attacker" and "the colleague" are different TCP peers of the same proxy. The proxy
(127.0.0.1) is the one trusted proxy.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.test import RequestFactory
from django.utils import timezone

from infra.client import client_ip
from infra.login import cooloff
from tests.proxy import ReverseProxy, request

pytestmark = pytest.mark.django_db(transaction=True)

ATTACKER, COLLEAGUE = "127.0.0.2", "127.0.0.3"
WRONG = {"username": "coord-a", "password": "wrong"}
RIGHT = {"username": "coord-a", "password": "pw-for-tests"}


@pytest.fixture
def proxy(live_server, settings):
    settings.CAREFLOW_TRUSTED_PROXIES = ["127.0.0.1"]
    with ReverseProxy(live_server.url) as running:
        yield running


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _token(proxy, source: str, body: dict, headers: dict | None = None) -> int:
    status, _, _ = request(
        proxy.url, "POST", "/api/auth/token/", source=source, body=body, headers=headers
    )
    return status


def test_a_client_sent_forwarded_for_does_not_reset_the_token_limit(proxy, settings, db):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "login": "3/minute"}
    codes = [
        _token(proxy, ATTACKER, WRONG, {"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(6)
    ]
    assert codes == [400, 400, 400, 429, 429, 429]
    # Another client behind the same proxy has its own allowance.
    assert _token(proxy, COLLEAGUE, WRONG) == 400


def test_lockout_is_per_user_and_real_address_behind_the_proxy(proxy, axes_on, coordinator):
    assert [_token(proxy, ATTACKER, WRONG) for _ in range(3)] == [400, 400, 429]
    assert _token(proxy, ATTACKER, RIGHT) == 429  # the attacker's address is locked out
    # The colleague behind the same proxy is not: the lock is not a weapon.
    assert _token(proxy, COLLEAGUE, RIGHT) == 200
    # Nor can the attacker lock the colleague's address by claiming it in the header.
    spoof = {"X-Forwarded-For": COLLEAGUE}
    for _ in range(3):
        _token(proxy, ATTACKER, WRONG, spoof)
    assert _token(proxy, COLLEAGUE, RIGHT) == 200


def _admin_login(proxy, source: str, username: str) -> int:
    status, headers, page = request(proxy.url, "GET", "/admin/login/", source=source)
    assert status == 200
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    form = urlencode(
        {"username": username, "password": "guess", "csrfmiddlewaretoken": csrf, "next": "/admin/"}
    )
    status, _, _ = request(
        proxy.url,
        "POST",
        "/admin/login/",
        source=source,
        form=form,
        headers={"Cookie": f"csrftoken={cookie}"},
    )
    return status


def test_admin_login_spray_is_limited_per_address(proxy, settings, db):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "login": "5/minute"}
    codes = [_admin_login(proxy, ATTACKER, f"user-{n}") for n in range(8)]
    assert codes == [200] * 5 + [429] * 3
    assert _admin_login(proxy, COLLEAGUE, "user-0") == 200


def test_lockouts_grow_for_the_same_user_and_address(axes_on, client, coordinator):
    factory = RequestFactory()
    probe = factory.post("/api/auth/token/", WRONG, REMOTE_ADDR="10.1.2.3")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            client.post("/admin/login/", {**WRONG, "next": "/admin/"}, REMOTE_ADDR="10.1.2.3")
        assert cooloff(probe) == timedelta(minutes=15)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        # The first lockout has run out; three more failures lock the pair out again.
        for _ in range(3):
            client.post("/admin/login/", {**WRONG, "next": "/admin/"}, REMOTE_ADDR="10.1.2.3")
        assert cooloff(probe) == timedelta(minutes=30)
    # The same user from another address starts from the first step.
    other = factory.post("/api/auth/token/", WRONG, REMOTE_ADDR="10.9.9.9")
    assert cooloff(other) == timedelta(minutes=15)
    assert AccessFailureLog.objects.filter(ip_address="10.1.2.3").count() == 6


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a proxy: the header is ignored
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the left part is the client's
        ("127.0.0.1", "198.51.100.1, 10.0.0.2", "198.51.100.1"),  # two trusted hops
        ("127.0.0.1", "not-an-ip, 198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_client_ip_walks_the_header_from_the_right(settings, remote, forwarded, expected):
    settings.CAREFLOW_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    req = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(req) == expected
