"""Over real HTTP: headers and limits.

Caching headers, CSP, body and text limits, strict PATCH bodies, real time zones, JSON-only.
"""

from __future__ import annotations

import json

import pytest
from knox.models import AuthToken

from episodes.models import Episode, Patient
from tests.factories import new_episode
from tests.proxy import request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, coordinator):
    token = AuthToken.objects.create(user=coordinator)[1]

    def call(method: str, path: str, body: object = None, **kwargs):
        headers = {"Authorization": f"Token {token}", **kwargs.pop("headers", {})}
        if body is not None and not isinstance(body, dict):
            kwargs["form"] = body
            body = None
        status, response_headers, content = request(
            live_server.url, method, path, body=body, headers=headers, **kwargs
        )
        return status, response_headers, content

    return call


def _error(content: bytes) -> dict:
    body = json.loads(content)
    assert {"error", "detail"} <= set(body)
    return body


def test_patient_data_is_never_stored_by_caches(api, patient):
    status, headers, _ = api("GET", f"/api/patients/{patient.pk}/")
    assert status == 200
    assert "no-store" in headers["Cache-Control"]
    assert "private" in headers["Cache-Control"]


def test_every_page_carries_a_content_security_policy(live_server):
    _, headers, _ = request(live_server.url, "GET", "/admin/login/")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_a_huge_note_is_a_400_and_nothing_is_recorded(api, patient, coordinator):
    episode = new_episode(patient, coordinator)
    path = f"/api/episodes/{episode.pk}/assessments/"
    status, _, content = api("POST", path, {"note": "x" * 2_400_000})
    assert status == 400
    _error(content)
    assert "note" in content.decode()
    assert not episode.assessments.exists()
    assert api("POST", path, {"note": "x" * 10_000})[0] == 201


def test_an_oversized_body_is_a_json_400(api, patient, coordinator):
    episode = new_episode(patient, coordinator)
    status, headers, content = api(
        "POST", f"/api/episodes/{episode.pk}/assessments/", {"note": "x" * 3_000_000}
    )
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert _error(content)["detail"] == "Request body too large."


def test_an_unknown_field_in_a_patch_is_a_400_and_changes_nothing(api, patient, coordinator):
    episode = new_episode(patient, coordinator)
    before = Episode.objects.get(pk=episode.pk).version
    status, _, content = api("PATCH", f"/api/episodes/{episode.pk}/", {"stat": "closed"})
    assert status == 400
    assert "stat" in content.decode()
    assert Episode.objects.get(pk=episode.pk).version == before
    status, _, _ = api("PATCH", f"/api/patients/{patient.pk}/", {"given_nam": "Bo"})
    assert status == 400


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "posix/Europe/Paris"])
def test_time_zones_must_be_real_iana_zones(api, patient, zone):
    status, _, content = api("PATCH", f"/api/patients/{patient.pk}/", {"timezone": zone})
    assert status == 400, content
    assert "timezone" in content.decode()
    assert Patient.objects.get(pk=patient.pk).timezone == "America/New_York"


def test_a_real_zone_is_taken(api, patient):
    status, _, _ = api("PATCH", f"/api/patients/{patient.pk}/", {"timezone": "Europe/London"})
    assert status == 200
    assert Patient.objects.get(pk=patient.pk).timezone == "Europe/London"


def test_form_bodies_are_refused_the_api_takes_json(api, patient):
    status, _, content = api("PATCH", f"/api/patients/{patient.pk}/", "given_name=Bo")
    assert status == 415
    assert _error(content)["error"] == "unsupported_media_type"
