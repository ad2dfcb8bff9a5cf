"""A write reads its facts once and writes the episode once: transitions a second rest on it.

Each budget is the measured count with every read done once; a write path that reads per
use runs 36 statements for a transition through the API (the episode read three times, its
facts four) and 23 for raising a red flag (the facts twice). Counts include the savepoints
the test's own transaction turns each ``atomic`` into. Lower a budget when you cut a query,
never raise it.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes import services
from tests.clients import url
from tests.clock import at_day
from tests.factories import new_episode

# FHIR subscriptions' outbox (interop/subscriptions/outbox.py), on every write of an episode:
# the Task topic's look-up (one statement, finding no subscription here), and for a red flag
# the red-flag topic's insert (one statement, inserting nothing here).
TASK_TOPIC = 1
RED_FLAG_TOPIC = 1
# The FHIR facade's kept version of the EpisodeOfCare (interop/history.py), on every write of
# an episode: one INSERT ... SELECT that reads the latest version and adds the next.
FHIR_VERSION = 1
TRANSITION_API_BUDGET = 14 + TASK_TOPIC + FHIR_VERSION  # knox's second query is beat's
TRANSITION_SERVICE_BUDGET = 10 + TASK_TOPIC + FHIR_VERSION
RED_FLAG_SERVICE_BUDGET = 16 + TASK_TOPIC + RED_FLAG_TOPIC + FHIR_VERSION


def reads_of(ctx: CaptureQueriesContext, table: str) -> int:
    """Statements that read rows of ``table`` (the ORM's, and the fixed ones of infra.db)."""
    return sum(
        1
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT ")
        and not q["sql"].startswith("SELECT 1 ")
        and f'FROM "{table}"' in q["sql"]
    )


def updates_of(ctx: CaptureQueriesContext, table: str) -> int:
    return sum(1 for q in ctx.captured_queries if q["sql"].startswith(f'UPDATE "{table}"'))


def test_a_transition_through_the_api(as_user, coordinator, patient, django_assert_max_num_queries):
    episode = new_episode(patient, coordinator, radicular_pain=True, disabling_pain=True)
    client = as_user(coordinator)
    with (
        at_day(20),
        django_assert_max_num_queries(TRANSITION_API_BUDGET),
        CaptureQueriesContext(connection) as ctx,
    ):
        response = client.post(
            url(f"episodes/{episode.pk}/transitions/refer_to_specialist/"),
            {"version": episode.version},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "specialist_referral"
    assert reads_of(ctx, "episodes_episode") == 1  # the lock; the access check selects 1
    assert reads_of(ctx, "episodes_redflag") == 1
    assert reads_of(ctx, "episodes_imagingstudy") == 1
    assert updates_of(ctx, "episodes_episode") == 1
    assert updates_of(ctx, "notifications_reminder") <= 1  # the changed rows, in one statement


def test_a_transition_reads_its_facts_once(coordinator, patient, django_assert_max_num_queries):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with (
        at_day(20),
        django_assert_max_num_queries(TRANSITION_SERVICE_BUDGET),
        CaptureQueriesContext(connection) as ctx,
    ):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            version=episode.version,
            data={},
        )
    assert reads_of(ctx, "episodes_episode") == 1
    assert reads_of(ctx, "episodes_redflag") == 1
    assert reads_of(ctx, "episodes_imagingstudy") == 1
    assert updates_of(ctx, "episodes_episode") == 1


def test_raising_a_red_flag_reads_its_facts_once(
    coordinator, patient, django_assert_max_num_queries
):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with (
        at_day(20),
        django_assert_max_num_queries(RED_FLAG_SERVICE_BUDGET),
        CaptureQueriesContext(connection) as ctx,
    ):
        services.red_flag_raise(episode_id=episode.pk, sign="urinary_retention", by=coordinator)
    episode.refresh_from_db()
    assert episode.state == "urgent_escalation"
    assert reads_of(ctx, "episodes_redflag") == 1
    assert reads_of(ctx, "episodes_imagingstudy") == 1
    assert updates_of(ctx, "episodes_episode") == 1
