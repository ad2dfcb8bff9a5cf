"""A signed-in page's session and user: one fixed statement each, Django's refusals kept.

``workspace/sessions.py`` and ``workspace/backends.py`` read what Django's store and
``ModelBackend`` read, and refuse what they refuse.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from episodes.selectors.access import team_id_list
from workspace.backends import SessionUserBackend
from workspace.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_signed_in_page_reads_its_session_and_user_once(client, coordinator, team):
    client.force_login(coordinator)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/queues/urgent/").status_code == 200
    statements = [q["sql"] for q in ctx.captured_queries]
    assert sum('FROM "django_session"' in s for s in statements) == 1
    assert sum('FROM "auth_user"' in s for s in statements) == 1
    # The team ids came with the user: no statement of their own.
    assert not any(s.startswith('SELECT "episodes_careteammembership"') for s in statements)


def test_an_expired_session_is_not_read(client, coordinator):
    client.force_login(coordinator)
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    response = client.get("/queues/urgent/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None  # a new session from here, as Django's store does


def test_an_unknown_or_malformed_key_is_a_new_empty_session(db):
    for key in ("x" * 32, "short", None):
        store = SessionStore(key)
        assert store.load() == {}
        assert store.session_key is None


def test_a_deactivated_users_session_ends(client, coordinator):
    client.force_login(coordinator)
    coordinator.is_active = False
    coordinator.save()
    response = client.get("/queues/urgent/")
    assert response.status_code == 302


def test_the_user_comes_with_the_team_ids(coordinator, team, other_team, django_user_model):
    backend = SessionUserBackend()
    user = backend.get_user(coordinator.pk)
    assert user == coordinator
    assert user.get_session_auth_hash() == coordinator.get_session_auth_hash()
    with CaptureQueriesContext(connection) as ctx:
        assert team_id_list(user) == [team.pk]
    assert not ctx.captured_queries
    assert backend.get_user(coordinator.pk + 1000) is None
    assert backend.get_user("not a number") is None
    assert backend.get_user(-1) is None
    loner = django_user_model.objects.create_user("no-team")
    assert team_id_list(backend.get_user(loner.pk)) == []
