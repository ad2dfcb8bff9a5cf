"""The API's token check costs one query a request and refuses what it must.

knox deletes the user's expired tokens inside every request (a second query); here that is
beat's job (``api.tasks.delete_expired_tokens``). Expired and revoked tokens are refused
just the same.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from api.tasks import delete_expired_tokens
from tests.factories import new_episode

pytestmark = pytest.mark.django_db

COUNTS = "/api/queues/"


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _token_queries(ctx: CaptureQueriesContext) -> int:
    return sum(1 for q in ctx.captured_queries if '"knox_authtoken"' in q["sql"])


def test_a_request_reads_its_token_once_and_no_other(coordinator):
    _, token = AuthToken.objects.create(user=coordinator)
    AuthToken.objects.create(user=coordinator, expiry=timedelta(hours=-1))  # expired, another
    with CaptureQueriesContext(connection) as ctx:
        assert _client(token).get(COUNTS).status_code == 200
    assert _token_queries(ctx) == 1
    assert AuthToken.objects.filter(user=coordinator).count() == 2  # beat deletes, not requests


def test_an_expired_token_is_refused_the_moment_it_expires(coordinator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _, token = AuthToken.objects.create(user=coordinator, expiry=timedelta(hours=1))
        assert _client(token).get(COUNTS).status_code == 200
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        assert _client(token).get(COUNTS).status_code == 401
        assert _client(token).get(COUNTS).status_code == 401  # still refused, row or not


def test_a_revoked_token_is_refused_at_once(coordinator):
    _, token = AuthToken.objects.create(user=coordinator)
    client = _client(token)
    assert client.get(COUNTS).status_code == 200
    assert client.delete("/api/auth/token/").status_code == 204
    assert client.get(COUNTS).status_code == 401


def test_a_post_with_an_idempotency_key_reads_its_token_once(coordinator, patient):
    episode = new_episode(patient, coordinator)
    _, token = AuthToken.objects.create(user=coordinator)
    client = _client(token)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            f"/api/episodes/{episode.pk}/red-flags/",
            {"sign": "fever", "note": "38.9"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="one-token-read",
        )
    assert response.status_code == 201, response.content
    assert _token_queries(ctx) == 1


def test_beat_deletes_the_expired_tokens_only(coordinator):
    _, live = AuthToken.objects.create(user=coordinator)
    AuthToken.objects.create(user=coordinator, expiry=timedelta(seconds=-1))
    AuthToken.objects.create(user=coordinator, expiry=timedelta(days=-3))
    delete_expired_tokens()
    assert AuthToken.objects.filter(user=coordinator).count() == 1
    assert _client(live).get(COUNTS).status_code == 200


def test_the_token_query_gives_what_knoxs_queryset_gives(coordinator, clinician):
    """The plain statement's tokens and users, field for field, as the ORM's."""
    from api.authentication import _tokens_with_users  # noqa: PLC0415

    token, text = AuthToken.objects.create(user=coordinator)
    AuthToken.objects.create(user=clinician)
    key = text[: len(token.token_key)]
    found = list(_tokens_with_users(key))
    expected = list(AuthToken.objects.filter(token_key=key).select_related("user"))
    assert len(found) == len(expected) == 1

    def fields(instance) -> dict:
        return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}  # noqa: SLF001

    assert fields(found[0]) == fields(expected[0])
    assert fields(found[0].user) == fields(expected[0].user)
    assert found[0].user.pk == coordinator.pk
    assert not found[0]._state.adding  # noqa: SLF001 - a saved row, as knox's refresh expects
    assert list(_tokens_with_users("nosuchkey")) == []


def test_the_team_ids_read_with_the_token_are_read_again_each_request(coordinator, patient):
    """The token check brings the user's team ids, read anew by each request.

    A membership ended is seen by the very next request: the episode is then a 404.
    """
    from episodes.models import CareTeamMembership  # noqa: PLC0415

    episode = new_episode(patient, coordinator)
    _, token = AuthToken.objects.create(user=coordinator)
    client = _client(token)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/api/episodes/{episode.pk}/").status_code == 200
    alone = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().startswith("SELECT")
        and "knox_authtoken" not in q["sql"]
        and "careteammembership" in q["sql"]
    ]
    assert alone == []  # read with the token, not in a query of its own
    CareTeamMembership.objects.filter(user=coordinator).delete()
    assert client.get(f"/api/episodes/{episode.pk}/").status_code == 404
    assert client.get("/api/queues/overdue/").json()["results"] == []
