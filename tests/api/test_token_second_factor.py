"""A token only for a user who passed the workspace's sign-in policy: the second factor too."""

from __future__ import annotations

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"  # noqa: S105 - a URL


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _login(user, **extra):
    body = {"username": user.username, "password": "pw-for-tests", **extra}
    return APIClient().post(TOKEN_URL, body, format="json")


def test_a_clinician_without_otp_gets_no_token(clinician):
    TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    answer = _login(clinician)
    assert answer.status_code == 400
    assert "second factor" in answer.json()["otp"][0]
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_a_clinician_with_a_wrong_otp_gets_no_token(clinician):
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    answer = _login(clinician, otp=wrong)
    assert answer.status_code == 400
    assert "not right" in answer.json()["otp"][0]
    assert not AuthToken.objects.filter(user=clinician).exists()


def test_a_clinician_with_the_code_gets_a_token(clinician):
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    answer = _login(clinician, otp=_code(device))
    assert answer.status_code == 200, answer.content
    token = answer.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/queues/").status_code == 200


def test_a_clinician_with_no_app_is_told_to_set_one_up(clinician):
    answer = _login(clinician, otp="123456")
    assert answer.status_code == 400
    assert "set up an authenticator app" in answer.json()["otp"][0]


def test_a_wrong_password_says_nothing_about_the_second_factor(clinician):
    answer = APIClient().post(
        TOKEN_URL, {"username": clinician.username, "password": "nope"}, format="json"
    )
    assert answer.status_code == 400
    assert "otp" not in answer.json()


def test_a_coordinator_needs_no_otp_unless_the_setting_says_so(settings, coordinator):
    assert _login(coordinator).status_code == 200
    settings.CAREFLOW_MFA_REQUIRED_FOR_ALL = True
    assert _login(coordinator).status_code == 400


def test_the_schema_documents_otp(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    body = schema["paths"]["/api/auth/token/"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    component = schema["components"]["schemas"][ref]
    assert "otp" in component["properties"]
    assert "otp" not in component.get("required", [])
    assert "authenticator app" in component["properties"]["otp"]["description"]
