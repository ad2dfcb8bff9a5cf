"""API test helpers: an authenticated client per actor, and episodes on a fixed calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from knox.models import AuthToken
from rest_framework.test import APIClient

from episodes import services

NY = ZoneInfo("America/New_York")
ONSET = date(2026, 10, 1)


def at_day(day: int, start: date = ONSET):
    """Travel to 10:00 New York time on day ``day`` after ``start``."""
    moment = datetime.combine(start + timedelta(days=day), datetime.min.time(), tzinfo=NY)
    return time_machine.travel(moment + timedelta(hours=10), tick=False)


def client_for(user) -> APIClient:
    """A client that authenticates the way integrations do: with a token header."""
    client = APIClient()
    if user is not None:
        _, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def as_user():
    return client_for


def new_episode(patient, by, day: int = 0, **facts):
    with at_day(day):
        return services.episode_create(
            patient=patient,
            by=by,
            symptom_onset=ONSET,
            conservative_care_start=ONSET,
            **facts,
        )


@pytest.fixture
def episode(patient, coordinator):
    """Team A's episode, whose facts satisfy IM-1 and ESI-3: only the day count may block."""
    return new_episode(
        patient,
        coordinator,
        radicular_pain=True,
        conservative_therapy_failed=True,
        candidate_for_esi=True,
    )


@pytest.fixture
def other_episode(other_team, other_coordinator):
    from tests.factories import PatientFactory  # noqa: PLC0415 - needs the app registry

    return new_episode(PatientFactory(care_team=other_team), other_coordinator)


def url(path: str) -> str:
    return f"/api/{path.lstrip('/')}"


def walk_pages(client, path: str, key: str = "next") -> list[list[int]]:
    """The ids of every page from ``path`` on, following the ``next`` (or ``previous``) links."""
    pages = []
    while path:
        body = client.get(path).json()
        pages.append([row["id"] for row in body["results"]])
        path = body[key]
    return pages
