"""OAuth 2 client credentials for a system (an EHR) on /fhir/, scoped to one care team."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from api.models import AccessRecord
from episodes.models import Patient
from interop.clients import fhir_client_create
from tests.interop.helpers import FHIR_JSON, enrolment, validate

pytestmark = pytest.mark.django_db


def _token(client, *, scope: str | None = None, secret: str | None = None) -> APIClient:
    """An access token by client credentials (HTTP Basic), on a client that sends it."""
    basic = base64.b64encode(
        f"{client.client_id}:{secret or client.client_secret}".encode()
    ).decode()
    form = "grant_type=client_credentials" + (f"&scope={scope}" if scope else "")
    response = APIClient().post(
        "/o/token/",
        form,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"  # noqa: S105 - a scheme, not a secret
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    return api


def test_a_client_sees_its_care_team_only(team, episode, other_episode):
    ehr = _token(fhir_client_create(team=team, name="Hospital EHR"))
    patients = ehr.get("/fhir/Patient", HTTP_ACCEPT=FHIR_JSON).json()
    validate(patients)
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(episode.patient_id)]
    assert ehr.get(f"/fhir/EpisodeOfCare/{episode.pk}").status_code == 200
    assert ehr.get(f"/fhir/EpisodeOfCare/{other_episode.pk}").status_code == 404
    assert ehr.get(f"/fhir/Patient/{other_episode.patient_id}").status_code == 404
    # Audited as the client's service user.
    record = AccessRecord.objects.filter(path=f"/fhir/EpisodeOfCare/{episode.pk}").get()
    assert record.username.startswith("client-")
    # The JSON API does not take these tokens: the facade is the systems' interface.
    assert ehr.get(f"/api/episodes/{episode.pk}/").status_code == 401


def test_scopes_are_checked(team, coordinator):
    client = fhir_client_create(team=team, name="EHR")
    reader = _token(client)  # the default scope: system/*.read
    refused = reader.post("/fhir/", enrolment(), format="json")
    assert refused.status_code == 403
    validate(refused.json())
    assert "system/*.write" in refused.json()["issue"][0]["diagnostics"]
    assert Patient.objects.count() == 0
    writer = _token(client, scope="system/*.read system/*.write")
    assert writer.post("/fhir/", enrolment(), format="json").status_code == 200
    assert Patient.objects.get().care_team_id == team.pk


def test_a_wrong_secret_or_an_expired_token_is_refused(team, episode):
    client = fhir_client_create(team=team, name="EHR")
    basic = base64.b64encode(f"{client.client_id}:wrong".encode()).decode()
    response = APIClient().post(
        "/o/token/",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 401
    ehr = _token(client)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert ehr.get(f"/fhir/EpisodeOfCare/{episode.pk}").status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer not-a-token-of-any-kind")
    assert forged.get("/fhir/Patient").status_code == 401


def test_the_management_command_makes_a_client(team, episode, capsys):
    call_command("fhir_client_create", "--team", str(team.pk), "--name", "EHR")
    out = capsys.readouterr().out
    client_id = out.split("client_id: ")[1].split()[0]
    secret = out.split("client_secret: ")[1].split()[0]
    ehr = _token(type("C", (), {"client_id": client_id, "client_secret": secret}))
    assert ehr.get(f"/fhir/EpisodeOfCare/{episode.pk}").status_code == 200
