"""GET /api/queues/ and /api/queues/{name}/: membership, order, team restriction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from episodes import services
from episodes.models import Episode
from notifications.models import Reminder
from tests.api.helpers import QUEUE_NAMES
from tests.clients import url
from tests.clock import NY, at_day
from tests.factories import PatientFactory, new_episode


def queue(client, name):
    response = client.get(url(f"queues/{name}/"))
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_index_lists_every_queue_with_a_count(as_user, coordinator, episode):
    response = as_user(coordinator).get(url("queues/"))
    assert response.status_code == 200
    assert [q["name"] for q in response.json()] == QUEUE_NAMES
    assert {q["name"]: q["count"] for q in response.json()}["unassigned"] == 1


def test_urgent_oldest_first_until_acted_on(as_user, coordinator, team):
    first = new_episode(PatientFactory(care_team=team), coordinator)
    second = new_episode(PatientFactory(care_team=team), coordinator)
    calm = new_episode(PatientFactory(care_team=team), coordinator)
    with at_day(3):
        services.red_flag_raise(episode_id=second.pk, sign="fever", by=coordinator)
    with at_day(4):
        services.red_flag_raise(episode_id=first.pk, sign="osteoporosis", by=coordinator)
    client = as_user(coordinator)
    assert queue(client, "urgent") == [second.pk, first.pk]
    with at_day(5):
        services.episode_transition(
            episode_id=second.pk, name="refer_to_specialist", by=coordinator
        )
    assert queue(client, "urgent") == [first.pk]
    assert calm.pk not in queue(client, "urgent")
    summary = client.get(url("queues/urgent/")).json()["results"][0]
    assert summary["patient_name"] == first.patient.display_name
    assert [f["sign"] for f in summary["red_flags"]] == ["osteoporosis"]
    # PATHWAY.md "Next actions": while a flag is active the urgent action comes first,
    # before the older, routine CC-2 education.
    assert summary["next_action"] == {
        "action": "urgent_imaging",
        "due": "2026-10-05",
        "rule": "URG-1",
    }
    assert (summary["next_deadline"], summary["next_deadline_rule"]) == ("2026-10-05", "RF-5")


def at_noon(day: date):
    """Noon on the patient's (New York) calendar date: queues use each patient's date."""
    return time_machine.travel(datetime.combine(day, time(12), tzinfo=NY), tick=False)


def test_deadline_queues(as_user, coordinator, team):
    patient = PatientFactory(care_team=team)
    late = new_episode(patient, coordinator)  # reassessment due 2026-11-12 (CC-1)
    with at_day(30):
        fresh = services.episode_create(  # reassessment due 2026-12-12
            patient=patient,
            by=coordinator,
            symptom_onset=date(2026, 10, 31),
            conservative_care_start=date(2026, 10, 31),
        )
    client = as_user(coordinator)
    with at_noon(date(2026, 11, 8)):
        assert queue(client, "due_soon") == [late.pk]
        assert queue(client, "overdue") == []
        assert queue(client, "reassessment_due") == []
    with at_noon(date(2026, 11, 13)):
        assert queue(client, "overdue") == [late.pk]
        assert queue(client, "reassessment_due") == [late.pk]
        assert queue(client, "due_soon") == []
    assert fresh.pk not in queue(client, "overdue")


def test_reassessment_after_day_42_leaves_the_queue(as_user, coordinator, clinician, episode):
    client = as_user(coordinator)
    with at_day(44):
        assert queue(client, "reassessment_due") == [episode.pk]
        services.assessment_record(
            episode_id=episode.pk, by=clinician, values={"conservative_therapy_failed": True}
        )
        assert queue(client, "reassessment_due") == []


def test_state_queues(as_user, coordinator, episode):
    client = as_user(coordinator)
    with at_day(42):
        services.episode_transition(
            episode_id=episode.pk, name="confirm_imaging_eligibility", by=coordinator
        )
        assert queue(client, "imaging_eligible") == [episode.pk]
        services.episode_transition(
            episode_id=episode.pk,
            name="schedule_esi",
            by=coordinator,
            data={
                "guidance": "fluoroscopic",
                "approach": "interlaminar",
                "patient_consented": True,
            },
        )
        assert queue(client, "imaging_eligible") == []
        assert queue(client, "esi") == [episode.pk]
        services.episode_transition(
            episode_id=episode.pk, name="refer_to_specialist", by=coordinator
        )
        assert queue(client, "specialist_referral") == [episode.pk]
    assert queue(client, "surgical_review") == []


@pytest.mark.parametrize("status", ["failed", "skipped"])
def test_delivery_failures(as_user, coordinator, episode, status):
    client = as_user(coordinator)
    assert queue(client, "delivery_failures") == []
    Reminder.objects.filter(episode=episode, milestone="2_weeks", audience="patient").update(
        status=status
    )
    assert queue(client, "delivery_failures") == [episode.pk]
    services.episode_transition(episode_id=episode.pk, name="resolve", by=coordinator)
    assert queue(client, "delivery_failures") == []


def test_unassigned_and_mine(as_user, coordinator, clinician, episode, team):
    mine = new_episode(PatientFactory(care_team=team), coordinator)
    services.episode_update(episode_id=mine.pk, by=coordinator, fields={"assigned_to": clinician})
    assert queue(as_user(coordinator), "unassigned") == [episode.pk]
    assert queue(as_user(clinician), "mine") == [mine.pk]
    assert queue(as_user(coordinator), "mine") == []


def test_queues_never_show_other_teams(as_user, coordinator, other_episode):
    Episode.objects.filter(pk=other_episode.pk).update(urgent_since=timezone.now())
    client = as_user(coordinator)
    for name in QUEUE_NAMES:
        assert other_episode.pk not in queue(client, name)
    assert all(q["count"] == 0 for q in client.get(url("queues/")).json())


def test_queue_pages_follow_the_order_across_equal_dates(as_user, coordinator, team):
    # Same next_deadline for all: the cursor must key on (next_deadline, id), not skip ties.
    made = [new_episode(PatientFactory(care_team=team), coordinator).pk for _ in range(5)]
    client = as_user(coordinator)
    seen = []
    with at_noon(date(2026, 11, 8)):
        link = url("queues/due_soon/?page_size=2")
        while link:
            body = client.get(link).json()
            seen.extend(row["id"] for row in body["results"])
            link = body["next"]
    assert seen == made
    assert Episode.objects.filter(pk__in=made).values("next_deadline").distinct().count() == 1


def test_unknown_queue_is_404(as_user, coordinator):
    response = as_user(coordinator).get(url("queues/everything/"))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_due_soon_window_is_seven_days(as_user, coordinator, episode):
    due = Episode.objects.get(pk=episode.pk).next_deadline
    client = as_user(coordinator)
    with at_noon(due - timedelta(days=8)):
        assert queue(client, "due_soon") == []
    with at_noon(due - timedelta(days=7)):
        assert queue(client, "due_soon") == [episode.pk]
