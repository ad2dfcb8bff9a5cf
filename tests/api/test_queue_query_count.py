"""A queue page costs the same few queries with 10 episodes or 200 (no N+1, no Python loop)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from careflow.schedule import queue_moments
from episodes.models import Episode, ImagingStudy, Patient, RedFlag
from notifications.models import PatientMessage, Reminder
from tests.api.conftest import url
from tests.api.test_queues_api import QUEUE_NAMES

# Token lookup (user joined; knox's second query, the user's other tokens, is beat's job
# since issue 16: api.authentication), the page (patients joined), red flags, imaging,
# and the access records of the patients shown (one multi-row INSERT, api/audit.py);
# and the user's team ids, read as values first (issue 16) so the page is an ordered range
# of a per-team index.
QUERY_BUDGET = 6  # was 7
# A queue page is one query since issue 16 (red flags and imaging aggregated in it): the
# token, the team ids, the page, the access records. On PostgreSQL the token check reads the
# user's team ids with the token (api.authentication): three.
ON_POSTGRESQL = connection.vendor == "postgresql"
QUEUE_QUERY_BUDGET = 3 if ON_POSTGRESQL else 4  # was 5
STATES = ["conservative_care", "urgent_escalation", "imaging_eligible", "esi",
          "specialist_referral", "surgical_review"]  # fmt: skip


def build(team, assignee, n: int) -> None:
    """``n`` episodes spread over every queue, written in a handful of bulk inserts."""
    today = timezone.localdate()
    patients = Patient.objects.bulk_create(
        Patient(
            care_team=team,
            given_name="Pat",
            family_name=f"Bulk{i}",
            birth_date=date(1970, 1, 1),
            timezone="America/New_York",
        )
        for i in range(n)
    )
    now = timezone.now()

    def moments(i: int) -> dict:
        found = queue_moments(
            next_deadline=today + timedelta(days=(i % 20) - 10),
            reassessment_due_on=today - timedelta(days=i % 5),
            zone=ZoneInfo("America/New_York"),
        )
        return {
            "overdue_from": found.overdue_from,
            "due_soon_from": found.due_soon_from,
            "reassessment_due_from": found.reassessment_due_from,
        }

    episodes = Episode.objects.bulk_create(
        Episode(
            patient=patient,
            care_team=team,
            state=STATES[i % len(STATES)],
            assigned_to=assignee if i % 2 else None,
            symptom_onset=today - timedelta(days=60),
            conservative_care_start=today - timedelta(days=60),
            enrolled_on=today - timedelta(days=60),
            facts={"radicular_pain": True},
            next_deadline=today + timedelta(days=(i % 20) - 10),
            next_deadline_rule="REF-1",
            reassessment_due_on=today - timedelta(days=i % 5),
            urgent_since=now - timedelta(minutes=i) if i % 3 == 0 else None,
            **moments(i),
        )
        for i, patient in enumerate(patients)
    )
    RedFlag.objects.bulk_create(
        RedFlag(episode=e, sign="fever", category="RF-4", raised_on=today) for e in episodes
    )
    ImagingStudy.objects.bulk_create(
        ImagingStudy(episode=e, performed_on=today, nerve_root_compression=True)
        for e in episodes[::2]
    )
    Reminder.objects.bulk_create(
        Reminder(
            episode=e,
            milestone="2_weeks",
            audience="patient",
            channel="email",
            milestone_date=today,
            due_at=now,
            next_attempt_at=now,
            status="failed",
        )
        for e in episodes[::4]
    )
    # Unread SMS replies on every third episode, arriving in no particular order (ties
    # too), and a read one that counts for nothing.
    replies = PatientMessage.objects.bulk_create(
        PatientMessage(
            episode=e,
            provider_message_id=f"SM{e.pk:032x}",
            kind="reply",
            body=f"Reply {i}",
            from_number="+15551230000",
        )
        for i, e in enumerate(episodes[1::3])
    )
    for i, reply in enumerate(replies):
        received = now - timedelta(minutes=(i * 7) % 11)
        PatientMessage.objects.filter(pk=reply.pk).update(received_at=received)
        Episode.objects.filter(pk=reply.episode_id).update(unread_reply_since=received)
    PatientMessage.objects.create(
        episode=episodes[0], provider_message_id="SM" + "f" * 32, kind="reply", read_at=now
    )


@pytest.mark.parametrize("n", [10, 200])
def test_every_queue_page_has_a_fixed_query_count(
    as_user, clinician, team, n, django_assert_max_num_queries
):
    build(team, clinician, n)
    client = as_user(clinician)
    sizes = {}
    for name in QUEUE_NAMES:
        with django_assert_max_num_queries(QUEUE_QUERY_BUDGET):
            response = client.get(url(f"queues/{name}/?page_size=100"))
        assert response.status_code == 200
        sizes[name] = len(response.json()["results"])
    with django_assert_max_num_queries(3):  # token (and team ids), team ids, aggregate
        counts = client.get(url("queues/")).json()
    assert {q["name"]: min(q["count"], 100) for q in counts} == sizes
    assert sizes["urgent"] > 0
    assert sizes["delivery_failures"] > 0
    assert sizes["unread_replies"] > 0
    assert sizes["mine"] > 0
    assert sizes["overdue"] > 0


@pytest.mark.parametrize("n", [10, 200])
def test_episode_list_page_has_a_fixed_query_count(
    as_user, coordinator, team, n, django_assert_max_num_queries
):
    build(team, coordinator, n)
    client = as_user(coordinator)
    with django_assert_max_num_queries(QUERY_BUDGET):
        first = client.get(url("episodes/?page_size=100")).json()
    assert len(first["results"]) == min(n, 100)
    if first["next"]:
        with django_assert_max_num_queries(QUERY_BUDGET):
            assert client.get(first["next"]).status_code == 200
