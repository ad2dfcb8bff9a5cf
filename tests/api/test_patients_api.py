"""POST/GET/PATCH /api/patients/: validation, care-team defaulting and membership."""

from __future__ import annotations

import pytest

from episodes.models import Patient
from tests.api.helpers import ANA
from tests.clients import url
from tests.factories import MembershipFactory


def test_create_defaults_to_the_users_only_team(as_user, coordinator, team):
    response = as_user(coordinator).post(url("patients/"), ANA, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["care_team"] == team.pk
    assert {k: body[k] for k in ANA} == ANA
    assert Patient.objects.get(pk=body["id"]).care_team == team


def test_timezone_defaults_to_the_servers(as_user, coordinator, settings):
    body = {k: v for k, v in ANA.items() if k != "timezone"}
    response = as_user(coordinator).post(url("patients/"), body, format="json")
    assert response.json()["timezone"] == settings.TIME_ZONE


def test_member_of_several_teams_must_name_one(as_user, coordinator, team, other_team):
    MembershipFactory(team=other_team, user=coordinator)
    client = as_user(coordinator)
    missing = client.post(url("patients/"), ANA, format="json")
    assert missing.status_code == 400
    assert "care_team" in missing.json()
    named = client.post(url("patients/"), {**ANA, "care_team": other_team.pk}, format="json")
    assert named.status_code == 201
    assert named.json()["care_team"] == other_team.pk


def test_a_team_the_user_is_not_in_is_400(as_user, coordinator, other_team):
    response = as_user(coordinator).post(
        url("patients/"), {**ANA, "care_team": other_team.pk}, format="json"
    )
    assert response.status_code == 400
    assert "care_team" in response.json()


def test_superuser_names_the_team(as_user, superuser, other_team):
    client = as_user(superuser)
    assert client.post(url("patients/"), ANA, format="json").status_code == 400
    response = client.post(url("patients/"), {**ANA, "care_team": other_team.pk}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"phone": "555-1234"}, "phone"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"sms_consent": False}, "preferred_channel"),  # sms needs consent
        ({"phone": ""}, "preferred_channel"),  # and a phone
        ({"language": "fr"}, "language"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1800-01-01"}, "birth_date"),
        ({"email": "not-an-email"}, "email"),
        ({"given_name": "x" * 101}, "given_name"),
    ],
)
def test_invalid_patient_is_400(as_user, coordinator, change, field):
    response = as_user(coordinator).post(url("patients/"), {**ANA, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Patient.objects.exists()


def test_get_and_patch(as_user, coordinator, patient):
    client = as_user(coordinator)
    assert client.get(url(f"patients/{patient.pk}/")).json()["family_name"] == patient.family_name
    response = client.patch(url(f"patients/{patient.pk}/"), {"language": "es"}, format="json")
    assert response.status_code == 200
    assert response.json()["language"] == "es"
    refused = client.patch(
        url(f"patients/{patient.pk}/"), {"preferred_channel": "sms"}, format="json"
    )
    assert refused.status_code == 400  # no SMS consent
    assert Patient.objects.get(pk=patient.pk).preferred_channel == "email"


def test_list_is_paginated_and_limited_to_own_team(as_user, coordinator, patient, other_team):
    from tests.factories import PatientFactory  # noqa: PLC0415

    PatientFactory(care_team=other_team)
    body = as_user(coordinator).get(url("patients/")).json()
    assert [p["id"] for p in body["results"]] == [patient.pk]
    assert body["next"] is None
    assert body["previous"] is None
