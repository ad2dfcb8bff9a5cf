"""How a standard client authenticates: Bearer tokens, SMART configuration, CORS.

And README's FHIR example, run as written against a live server.
"""

from __future__ import annotations

import subprocess

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory
from tests.interop.helpers import FHIR_JSON, validate
from tests.readme import shell_block

pytestmark = pytest.mark.django_db


def _bearer(user, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token"])
def test_a_bearer_token_is_the_same_token(coordinator, episode, scheme):
    client = _bearer(coordinator, scheme)
    fhir = client.get(f"/fhir/EpisodeOfCare/{episode.pk}", HTTP_ACCEPT=FHIR_JSON)
    assert fhir.status_code == 200
    api = client.get(f"/api/episodes/{episode.pk}/")
    assert api.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer nonsense", "Bearer a b", "Bearer \u00e9\u00e9", "Basic Zm9vOmJhcg=="],
)
def test_a_bad_bearer_is_a_401(episode, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"/fhir/EpisodeOfCare/{episode.pk}", HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code == 401
    validate(response.json())
    assert client.get(f"/api/episodes/{episode.pk}/").status_code == 401


def test_a_bearer_token_of_another_team_still_sees_nothing(other_coordinator, episode):
    client = _bearer(other_coordinator)
    assert client.get(f"/fhir/EpisodeOfCare/{episode.pk}").status_code == 404
    assert "entry" not in client.get("/fhir/Patient").json()


@pytest.mark.parametrize(
    "path", ["/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"]
)
def test_smart_configuration_says_what_is_true(path):
    response = APIClient().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    # Client credentials with a secret, and nothing else: no SMART launch, no
    # authorization endpoint, no authorization code or PKCE.
    assert body["grant_types_supported"] == ["client_credentials"]
    assert body["capabilities"] == ["client-confidential-symmetric"]
    assert body["token_endpoint"] == "http://testserver/o/token/"  # noqa: S105 - a URL
    assert set(body["scopes_supported"]) == {"system/*.read", "system/*.write"}
    assert "authorization_endpoint" not in body
    assert body["code_challenge_methods_supported"] == []
    assert body["careflow_token_request"]["url"] == "http://testserver/api/auth/token/"


def test_capability_statement_security(settings):
    metadata = APIClient().get("/fhir/metadata").json()
    validate(metadata)
    security = metadata["rest"][0]["security"]
    assert security["cors"] is False
    assert "Bearer" in security["description"]
    assert security["service"][0]["coding"][0]["code"] == "OAuth"
    (uris,) = security["extension"]
    assert uris["extension"] == [{"url": "token", "valueUri": "http://testserver/o/token/"}]
    settings.CORS_ALLOWED_ORIGINS = ["https://ehr.example.org"]
    assert APIClient().get("/fhir/metadata").json()["rest"][0]["security"]["cors"] is True


def test_cors_only_for_configured_origins(settings, coordinator):
    client = _bearer(coordinator)
    origin = "https://ehr.example.org"
    none_configured = client.get("/fhir/metadata", HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in none_configured
    settings.CORS_ALLOWED_ORIGINS = [origin]
    allowed = client.get("/fhir/Patient", HTTP_ORIGIN=origin)
    assert allowed["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Credentials" not in allowed
    other = client.get("/fhir/Patient", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
    preflight = APIClient().options(
        "/fhir/Patient",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == origin
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    # Not for the workspace or the admin: their pages are for this site alone.
    page = client.get("/", HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in page


def test_the_readme_fhir_example_runs_as_written(live_server, team, episode):
    # The demo coordinator: a clinician's token also asks for a second factor (api.mfa).
    user = UserFactory(username="coordinator")
    user.set_password("careflow-demo")
    user.save()
    MembershipFactory(team=team, user=user, role="coordinator")
    script = shell_block("FHIR").replace("http://127.0.0.1:8000", live_server.url)
    done = subprocess.run(
        ["/bin/bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"resourceType":"Bundle"' in done.stdout.replace(" ", "")
    assert f'"id":"{episode.pk}"' in done.stdout.replace(" ", "")
    assert '"resourceType":"PlanDefinition"' in done.stdout.replace(" ", "")
