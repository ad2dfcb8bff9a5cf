"""Hostile input is refused with a clear error, changes nothing, and never causes a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from episodes.models import Patient
from tests.clients import client_for
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode

HOSTILE_TEXT = [
    "'; DROP TABLE episodes_episode; --",
    "Robert'); DELETE FROM episodes_patient WHERE ('1'='1",
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ settings.SECRET_KEY }}",
    "%(password)s",
]


def patient_body(**overrides):
    return {
        "given_name": "Ana",
        "family_name": "Ruiz",
        "birth_date": "1968-04-02",
        "timezone": "America/New_York",
        **overrides,
    }


def test_oversized_body_is_refused(coordinator):
    client = client_for(coordinator)
    body = json.dumps(patient_body(family_name="x" * 3_000_000))
    response = client.generic("POST", "/api/patients/", body, content_type="application/json")
    assert response.status_code in (400, 413)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('{"given_name": "Ana",', "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("\xff\xfe garbage", "application/json", 400),
        ("given_name=Ana", "text/plain", 415),
        ("[" * 50_000 + "]" * 50_000, "application/json", 400),
    ],
)
def test_malformed_bodies_are_refused(coordinator, body, content_type, expected):
    response = client_for(coordinator).generic(
        "POST", "/api/patients/", body, content_type=content_type
    )
    assert response.status_code == expected
    assert "error" in response.json()
    assert not Patient.objects.exists()


def test_nul_bytes_are_refused(coordinator):
    response = client_for(coordinator).post(
        "/api/patients/", patient_body(given_name="An\x00a"), format="json"
    )
    assert response.status_code == 400
    assert "given_name" in response.json()


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_sql_and_html_shaped_text_is_stored_verbatim(coordinator, text):
    client = client_for(coordinator)
    response = client.post(
        "/api/patients/", patient_body(given_name=text[:100], family_name=text[:100]), format="json"
    )
    assert response.status_code == 201, response.json()
    patient = Patient.objects.get()
    assert patient.given_name == text[:100]
    assert client.get(f"/api/patients/{patient.pk}/").json()["family_name"] == text[:100]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_renders_escaped_in_the_admin(client, superuser, coordinator, team, text):
    from tests.factories import PatientFactory  # noqa: PLC0415

    patient = PatientFactory(care_team=team, given_name=text[:100], family_name=text[:100])
    episode = new_episode(patient, coordinator)
    api = client_for(coordinator)
    with at_day(2):
        api.post(
            f"/api/episodes/{episode.pk}/assessments/",
            {"radicular_pain": True, "note": text},
            format="json",
        )
        api.post(
            f"/api/episodes/{episode.pk}/red-flags/",
            {"sign": "fever", "note": text},
            format="json",
        )
        api.post(
            f"/api/episodes/{episode.pk}/care-plan/",
            {"item": "nsaid", "note": text},
            format="json",
        )
    client.force_login(superuser)
    pages = [
        client.get(f"/admin/episodes/patient/{patient.pk}/change/"),
        client.get(f"/admin/episodes/episode/{episode.pk}/change/"),
        client.get("/admin/episodes/patient/"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        if "<" in text:
            assert text not in html
    if "<" in text:
        assert "&lt;script&gt;" in pages[0].content.decode() or "&lt;img" in (
            pages[0].content.decode()
        )


@pytest.mark.parametrize("value", [123, 4.5, True, ["a"], {"a": 1}])
def test_text_sent_as_anything_but_a_string_is_refused(coordinator, team, value):
    """The schema says string; a number is a client's mistake, never kept as text."""
    client = client_for(coordinator)
    with at_day(3):
        episode = new_episode(PatientFactory(care_team=team), coordinator)
        answer = client.post(
            f"/api/episodes/{episode.pk}/red-flags/",
            {"sign": "fever", "note": value},
            format="json",
        )
        named = client.post("/api/patients/", patient_body(given_name=value), format="json")
    assert answer.status_code == 400
    assert "note" in answer.json()
    assert named.status_code == 400
    assert not episode.red_flags.exists()
    # The other way: the same digits as a string are text.
    with at_day(3):
        kept = client.post(
            f"/api/episodes/{episode.pk}/red-flags/",
            {"sign": "fever", "note": "123"},
            format="json",
        )
    assert kept.status_code == 201


def test_logging_out_is_not_limited_by_the_login_rate(settings, coordinator):
    settings.CAREFLOW_API_RATES = {**settings.CAREFLOW_API_RATES, "login": "1/minute"}
    from knox.models import AuthToken  # noqa: PLC0415

    tokens = [AuthToken.objects.create(user=coordinator)[1] for _ in range(3)]
    codes = []
    for token in tokens:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        codes.append(client.delete("/api/auth/token/").status_code)
    assert codes == [204, 204, 204]
