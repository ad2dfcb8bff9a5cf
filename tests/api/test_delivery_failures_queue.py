"""delivery_failures read as a filter on the team's open episodes (fast at 1M): the same rows.

The queue's condition is "has a failed or skipped reminder" as a scalar subquery, so that
PostgreSQL reads the team's open episodes from the page's cursor (``episode_team_open``)
instead of merging with the failed reminders' index from its start. Its contract is
unchanged: the team's open episodes with at least one failed or skipped reminder, each
once, in id order, the same pages forward and back, and the same count on the index.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from careflow.states import NON_TERMINAL_STATES
from episodes.models import Episode
from notifications.models import Reminder
from tests.clients import url, walk_pages
from tests.factories import bulk_episodes

PROBLEMS = ("failed", "skipped")


def _reminder(episode_id: int, milestone: str, status: str) -> Reminder:
    now = timezone.now()
    return Reminder(
        episode_id=episode_id,
        milestone=milestone,
        audience="patient",
        channel="email",
        milestone_date=now.date(),
        due_at=now,
        next_attempt_at=now,
        status=status,
    )


def test_delivery_failures_pages_are_the_teams_open_episodes_with_a_problem(
    as_user, clinician, team, other_episode
):
    bulk_episodes(team, clinician, 60)  # a failed "2_weeks" reminder on every fourth episode
    ids = list(Episode.objects.filter(care_team=team).order_by("id").values_list("id", flat=True))
    Reminder.objects.bulk_create(
        [
            # A second problem on an episode that has one: it is listed once.
            *(_reminder(i, "6_weeks", "skipped") for i in ids[::8]),
            # Skipped only, failed only, and reminders that went out or were cancelled.
            *(_reminder(i, "6_weeks", "skipped") for i in ids[1::6]),
            *(_reminder(i, "12_weeks", "sent") for i in ids[2::3]),
            *(_reminder(i, "24_weeks", "cancelled") for i in ids[3::5]),
        ]
    )
    # Another team's episode with failed reminders is never shown.
    Reminder.objects.filter(episode=other_episode).update(status="failed")
    # Closed and resolved episodes leave the queue, whatever their reminders.
    Episode.objects.filter(pk__in=ids[::12]).update(state="closed")
    Episode.objects.filter(pk__in=ids[4::20]).update(state="resolved")

    expected = sorted(
        set(
            Reminder.objects.filter(
                episode__care_team=team,
                episode__state__in=[s.value for s in NON_TERMINAL_STATES],
                status__in=PROBLEMS,
            ).values_list("episode_id", flat=True)
        )
    )
    assert len(expected) > 10

    client = as_user(clinician)
    forward = walk_pages(client, url("queues/delivery_failures/?page_size=4"), "next")
    assert [i for page in forward for i in page] == expected
    assert all(len(page) == 4 for page in forward[:-1])
    last = client.get(url("queues/delivery_failures/?page_size=4")).json()
    while last["next"]:
        last = client.get(last["next"]).json()
    backward = walk_pages(client, last["previous"], "previous")
    assert [i for page in reversed(backward) for i in page] == expected[: -len(forward[-1])]
    counts = {q["name"]: q["count"] for q in client.get(url("queues/")).json()}
    assert counts["delivery_failures"] == len(expected)


def test_the_open_episodes_index_is_a_partial_index_per_team(db):
    """``episode_team_open``: (care_team, id) where the episode is open, as the queue reads."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Episode._meta.db_table)  # noqa: SLF001
    index = constraints["episode_team_open"]
    assert index["index"] is True
    assert index["columns"] == ["care_team_id", "id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'episode_team_open'")
        definition = cursor.fetchone()[0]
    for state in NON_TERMINAL_STATES:
        assert f"'{state.value}'" in definition
        assert "'closed'" not in definition
        assert "'resolved'" not in definition
