"""Every error is JSON with `error` and `detail`, and nothing a client sends is a 500."""

from __future__ import annotations

import pytest

from tests.clients import url


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_token_obtained_with_username_and_password(client, coordinator):
    response = client.post(
        url("auth/token/"),
        {"username": "coord-a", "password": "pw-for-tests"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["token"]) == 64  # django-rest-knox's token; only its hash is stored
    assert set(body) == {"token", "expiry"}


def test_token_refused_in_the_error_shape(client, coordinator):
    response = client.post(
        url("auth/token/"),
        {"username": "coord-a", "password": "wrong"},
        content_type="application/json",
    )
    body = assert_error(response, 400, "invalid")
    assert body["non_field_errors"]


def test_anonymous_is_401(client, episode):
    assert_error(client.get(url(f"episodes/{episode.pk}/")), 401, "not_authenticated")


def test_bad_token_is_401(client, episode):
    response = client.get(url(f"episodes/{episode.pk}/"), HTTP_AUTHORIZATION="Token nope")
    assert_error(response, 401, "authentication_failed")


def test_field_errors_stay_at_the_top_level(as_user, coordinator):
    response = as_user(coordinator).post(url("patients/"), {"given_name": "Ana"}, format="json")
    body = assert_error(response, 400, "invalid")
    assert body["family_name"] == ["This field is required."]
    assert "birth_date" in body


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"just a string"', "application/json"),
        ('{"patient": NaN}', "application/json"),
        ("patient=1", "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_not_500(as_user, coordinator, episode, body, content_type):
    client = as_user(coordinator)
    for path in ("episodes/", f"episodes/{episode.pk}/transitions/resolve/"):
        response = client.generic("POST", url(path), body, content_type=content_type)
        assert response.status_code in (400, 415), response.content
        assert response.json()["error"] in ("invalid", "parse_error", "unsupported_media_type")


@pytest.mark.parametrize(
    "path",
    [
        "episodes/99999999999999999999999999/",
        "episodes/9223372036854775808/timeline/",
        "patients/99999999999999999999/",
        "episodes/0/",
        "episodes/abc/",
        "episodes/-1/",
        "queues/no_such_queue/",
        "no/such/thing/",
    ],
)
def test_unknown_or_out_of_range_urls_are_json_404(as_user, coordinator, path):
    assert_error(as_user(coordinator).get(url(path)), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "patient=99999999999999999999999",
        "patient=abc",
        "state=nonsense",
        "cursor=%00%00",
        "cursor=eyJkIjoibiIsInAiOlsiOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5Il19",
        "page_size=0",
        "page_size=101",
    ],
)
def test_bad_query_parameters_are_400(as_user, coordinator, query):
    assert_error(as_user(coordinator).get(url(f"episodes/?{query}")), 400, "invalid")


def test_huge_ids_in_bodies_are_400(as_user, coordinator):
    response = as_user(coordinator).post(
        url("episodes/"), {"patient": 10**30, "symptom_onset": "2026-10-01"}, format="json"
    )
    assert_error(response, 400, "invalid")


def test_wrong_method_is_405_in_the_error_shape(as_user, coordinator):
    assert_error(as_user(coordinator).delete(url("queues/")), 405, "method_not_allowed")
