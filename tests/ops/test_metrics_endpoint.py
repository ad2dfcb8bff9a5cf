"""``GET /metrics`` answers the operator's bearer token only, and counts requests by route."""

from __future__ import annotations

import pytest

from tests.ops.helpers import METRICS_TOKEN, scrape, value

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Token {METRICS_TOKEN}", f"Basic {METRICS_TOKEN}", "Bearer "],
)
def test_anything_but_the_token_is_a_404(client, metrics_token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    assert client.get("/metrics", **extra).status_code == 404


def test_without_a_configured_token_nobody_may_read_it(client, settings):
    settings.CAREFLOW_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics").status_code == 404


def test_a_superuser_session_is_not_enough(client, settings, superuser, metrics_token):
    client.force_login(superuser)
    assert client.get("/metrics").status_code == 404


def test_the_token_reads_prometheus_text_format(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"].startswith("max-age=0")
    assert "careflow_urgent_episodes" in response.content.decode()


def test_requests_are_counted_by_route_name_and_status_never_by_path(client, metrics_token):
    before = scrape(client)
    client.get("/healthz")
    client.get("/no/such/page/jane-doe-1960-06-06")
    client.get("/api/episodes/123456/")  # unauthenticated: the route's name, not the id
    after = scrape(client)

    def count(text, route, status, method="GET"):
        try:
            return value(
                text, "careflow_http_requests_total", route=route, method=method, status=status
            )
        except KeyError:
            return 0.0

    healthz_status = (
        "200" if count(after, "healthz", "200") > count(before, "healthz", "200") else "503"
    )
    assert count(after, "healthz", healthz_status) == count(before, "healthz", healthz_status) + 1
    assert count(after, "unmatched", "404") == count(before, "unmatched", "404") + 1
    assert "jane-doe" not in after
    assert "123456" not in after
    assert 'route="episode"' in after
    assert "careflow_http_request_duration_seconds_bucket" in after
