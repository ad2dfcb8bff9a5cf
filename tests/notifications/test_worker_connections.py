"""A worker keeps its database connection between tasks, as a request does.

Celery's Django fixup closes every connection before and after each task: a new
PostgreSQL backend per reminder batch. ``config.celery_app`` applies Django's
``close_old_connections`` around a task instead: CONN_MAX_AGE and health checks decide.
"""

from __future__ import annotations

import pytest
from django.db import connection

from config.celery_app import app, close_old_db_connections
from notifications.tasks import deliver_reminders

pytestmark = pytest.mark.django_db(transaction=True)


def _backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def max_age():
    saved = connection.settings_dict["CONN_MAX_AGE"]

    def use(seconds: int) -> int:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = seconds
        return _backend()

    yield use
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = saved


def test_celery_leaves_the_connections_to_django():
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 1_000_000


def test_a_task_keeps_a_sound_connection_within_conn_max_age(max_age):
    first = max_age(60)
    close_old_db_connections(sender=deliver_reminders)
    close_old_db_connections(sender=deliver_reminders)
    assert _backend() == first


def test_with_conn_max_age_0_each_task_gets_a_new_connection(max_age):
    first = max_age(0)
    close_old_db_connections(sender=deliver_reminders)
    assert connection.connection is None
    assert _backend() != first
