"""Tokens end; the admin is for superusers, and its sessions last a working day.

And the admin never edits what the services own.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from episodes.models import Episode
from tests.factories import new_episode

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"  # noqa: S105 - a URL


def _login(username: str = "coord-a", password: str = "pw-for-tests") -> dict:  # noqa: S107
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# -- tokens ----------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_expire(settings, coordinator):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=10)}
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        body = _login()
        token = body["token"]
        assert set(body) == {"token", "expiry"}
        stored = AuthToken.objects.get(user=coordinator)
        assert token not in (stored.digest, stored.token_key)
        assert stored.digest == hashlib.sha512(token.encode()).hexdigest()
        assert _with(token).get("/api/queues/").status_code == 200
    with time_machine.travel(start + timedelta(hours=10, minutes=1), tick=False):
        assert _with(token).get("/api/queues/").status_code == 401


def test_delete_logs_out(coordinator):
    token = _login()["token"]
    other = _login()["token"]
    assert _with(token).delete(TOKEN_URL).status_code == 204
    assert _with(token).get("/api/queues/").status_code == 401
    assert _with(other).get("/api/queues/").status_code == 200  # only that token
    assert APIClient().delete(TOKEN_URL).status_code == 401


def test_a_password_change_ends_every_token(coordinator):
    token = _login()["token"]
    coordinator.set_password("a-new-password-123")
    coordinator.save()
    assert _with(token).get("/api/queues/").status_code == 401


def test_deactivation_ends_every_token(coordinator):
    token = _login()["token"]
    coordinator.is_active = False
    coordinator.save()
    assert not AuthToken.objects.filter(user=coordinator).exists()
    coordinator.is_active = True
    coordinator.save()
    assert _with(token).get("/api/queues/").status_code == 401


def test_unrelated_user_saves_keep_the_token(coordinator):
    token = _login()["token"]
    coordinator.first_name = "Renamed"
    coordinator.save()
    assert _with(token).get("/api/queues/").status_code == 200


# -- the admin -----------------------------------------------------------------------------


def test_admin_refuses_staff_with_view_rights_on_other_teams_records(
    client, coordinator, other_coordinator, other_team
):
    from tests.factories import PatientFactory  # noqa: PLC0415

    theirs = PatientFactory(care_team=other_team)
    coordinator.is_staff = True
    coordinator.save()
    coordinator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_patient", "view_episode"])
    )
    client.force_login(coordinator)
    page = client.get(reverse("admin:episodes_patient_change", args=[theirs.pk]))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("admin:login"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_admin_is_open_to_superusers(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:index")).status_code == 200


DERIVED = {
    "disabling_pain_recorded_on": "2026-10-02",
    "neurological_deficit_recorded_on": "2026-10-02",
    "last_assessment_on": "2026-10-02",
    "education_recorded": "on",
    "resolution_reported_on": "2026-10-02",
}


def test_every_episode_column_is_read_only_in_the_admin(client, superuser, patient, coordinator):
    episode = new_episode(patient, coordinator)
    client.force_login(superuser)
    url = reverse("admin:episodes_episode_change", args=[episode.pk])
    page = client.get(url).content.decode()
    for name in DERIVED:
        assert f'name="{name}"' not in page, name
    before = Episode.objects.values().get(pk=episode.pk)
    client.post(url, {**DERIVED, "_save": "Save"})
    assert Episode.objects.values().get(pk=episode.pk) == before


# -- sessions of a working day ---------------------------------------------------------------


def test_admin_sessions_last_a_working_day(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert client.session.get_expiry_age() == 9 * 3600
