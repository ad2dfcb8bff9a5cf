"""FHIR facade fixtures: the demo data (seed_demo's episodes) plus what it lacks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from careflow.deadlines import Milestone
from episodes import services
from episodes.management.commands import seed_demo
from episodes.management.commands.seed_demo import _READY, DEMO_EPISODES, DemoEpisode
from episodes.models import Episode
from notifications import services as notifications_services
from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import drain_due
from notifications.models import DeliveryAttempt, Reminder, ReminderStatus
from tests.clock import at_day, local
from tests.notifications.helpers import run_cycle
from workspace.services import outreach_note_add

_REFERRED = (("refer_to_specialist", {"urgency": "routine"}), ("begin_surgical_review", {}))
_SURGERY = (*_REFERRED, ("plan_surgery", {"procedure": "discectomy", "technique": "open"}))
# seed_demo's episodes stop short of four states; these reach them the same way.
EXTRA_DEMO_EPISODES = (
    DemoEpisode(
        "Ivy", "Demo-Referral", date(1985, 5, 5), 30, {"radicular_pain": True},
        steps=(("refer_to_specialist", {"urgency": "within_2_weeks"}),),
    ),
    DemoEpisode("Jon", "Demo-Surgery", date(1972, 8, 8), 95, _READY, steps=_SURGERY, imaging=True),
    DemoEpisode(
        "Kai", "Demo-Refractory", date(1966, 1, 1), 120, _READY,
        steps=(*_SURGERY, ("declare_refractory", {})), imaging=True,
    ),
    DemoEpisode(
        "Lou", "Demo-Closed", date(1991, 9, 9), 15, {},
        steps=(("close", {"reason": "transferred"}),),
    ),
)  # fmt: skip


@pytest.fixture
def demo(team, coordinator, clinician, monkeypatch):
    """seed_demo's episodes (plus four reaching the states it leaves out), on Team A.

    Then what they do not reach by themselves: care-plan items (two flagged), an assessment,
    reminders delivered by a real dispatch cycle, a patient's check-in (answered, then
    corrected, raising a red flag), and a coordinator's outreach notes.
    """
    monkeypatch.setattr(seed_demo, "DEMO_EPISODES", (*DEMO_EPISODES, *EXTRA_DEMO_EPISODES))
    seed_demo.seed_episodes(team, {"coordinator": coordinator, "clinician": clinician})
    episodes = {e.patient.given_name: e for e in Episode.objects.select_related("patient")}
    ana = episodes["Ana"]
    today = timezone.localdate()
    for item in ("nsaid", "pregabalin", "opioid_short_term"):
        services.care_plan_item_add(episode_id=ana.pk, by=clinician, item=item, started_on=today)
    services.care_plan_item_add(
        episode_id=ana.pk,
        by=clinician,
        item="core_stabilization",
        started_on=today - timedelta(days=5),
        ended_on=today - timedelta(days=1),
        note="home programme",
    )
    services.assessment_record(
        episode_id=ana.pk, by=clinician, values={"neurological_deficit": False}, note="checked"
    )
    # An hour after the 2-week reminder falls due (09:00 in Ana's zone), not "now + 6 days"
    # at this run's time of day: run between 01:00 and 02:00 UTC, that was Ana's quiet hours
    # and the dispatch cycle rightly deferred the reminder.
    two_weeks = (
        Reminder.objects.filter(episode=ana, audience="patient", milestone=Milestone.TWO_WEEKS)
        .values_list("due_at", flat=True)
        .get()
    )
    with time_machine.travel(two_weeks + timedelta(hours=1), tick=False):
        drain_due(
            enqueue=lambda ids, claim: deliver_claimed(reminder_ids=ids, claim=claim),
        )
    sent = Reminder.objects.filter(
        episode=ana, audience="patient", status=ReminderStatus.SENT
    ).first()
    assert sent is not None, "the dispatch cycle should have sent Ana's 2-week reminder"
    for overall in ("worse", "same"):
        notifications_services.checkin_submit(
            reminder_id=sent.pk, overall=overall, disabling_pain=True, symptoms=["fever"]
        )
    # A coordinator's calls: one that reached Ana, one that did not (FHIR Communication).
    outreach_note_add(episode_id=ana.pk, by=coordinator, kind="call_made", note="spoke to Ana")
    outreach_note_add(episode_id=ana.pk, by=coordinator, kind="no_answer")
    return {name: Episode.objects.get(pk=e.pk) for name, e in episodes.items()}


@pytest.fixture
def full_episode(episode, coordinator, clinician):
    """Team A's episode with one row of every kind the facade maps."""
    with at_day(3):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
        study = services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=episode.symptom_onset,
            nerve_root_compression=True,
            level="L5-S1",
            clinically_correlated=False,
        )
        services.care_plan_item_add(episode_id=episode.pk, by=clinician, item="nsaid")
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    run_cycle(local(episode.symptom_onset.replace(day=15), 10))
    attempt = DeliveryAttempt.objects.get(reminder=reminder)
    with at_day(15):
        checkin = notifications_services.checkin_submit(
            reminder_id=reminder.pk, overall="same", disabling_pain=False, symptoms=[]
        )
    assessment = episode.assessments.first()
    log = episode.transitions.first()
    return {
        "Patient": episode.patient_id,
        "EpisodeOfCare": episode.pk,
        "Condition": episode.pk,
        "CarePlan": episode.pk,
        "EpisodeOfCare/$everything": episode.pk,
        "Flag": flag.pk,
        "Observation": f"{assessment.pk}-radicular-pain",
        "DiagnosticReport": study.pk,
        "Task": f"{episode.pk}-educate-patient",
        "CommunicationRequest": reminder.pk,
        "Communication": attempt.pk,
        "QuestionnaireResponse": checkin.pk,
        "Provenance": log.pk,
    }  # fmt: skip
