"""FHIR facade helpers: the demo data (seed_demo's episodes) plus what it lacks, and a validator."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from episodes import services
from episodes.management.commands.seed_demo import seed_episodes
from episodes.models import Episode
from notifications.dispatch import deliver_batch, dispatch_cycle
from notifications.models import Reminder, ReminderStatus
from tests.api.conftest import client_for, episode, other_episode  # noqa: F401 - fixtures shared with the API tests

FHIR_JSON = "application/fhir+json"


def validate(resource: dict) -> object:
    """The resource parsed by fhir.resources' R4B model of its type: any error fails the test."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def fhir_get(user, path: str, **params):
    return client_for(user).get(f"/fhir/{path}", params, HTTP_ACCEPT=FHIR_JSON)


@pytest.fixture
def demo(team, coordinator, clinician):
    """seed_demo's eight episodes on Team A, then what they do not reach by themselves.

    Care-plan items (two of them flagged), an assessment, a surgery, a refractory and a
    closed episode, reminders delivered by a real dispatch cycle, and a patient's check-in
    (answered, then corrected).
    """
    seed_episodes(team, {"coordinator": coordinator, "clinician": clinician})
    episodes = {e.patient.given_name: e for e in Episode.objects.select_related("patient")}
    ana, grace = episodes["Ana"], episodes["Grace"]
    today = timezone.localdate()
    for item, ended in (("nsaid", None), ("pregabalin", None), ("opioid_short_term", None)):
        services.care_plan_item_add(
            episode_id=ana.pk, by=clinician, item=item, started_on=today, ended_on=ended
        )
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
    services.episode_transition(
        episode_id=grace.pk,
        name="plan_surgery",
        by=clinician,
        data={"procedure": "discectomy", "technique": "microtubular"},
    )
    services.episode_transition(episode_id=grace.pk, name="declare_refractory", by=clinician)
    services.episode_transition(
        episode_id=episodes["Chloe"].pk,
        name="close",
        by=coordinator,
        data={"reason": "transferred"},
    )
    with time_machine.travel(timezone.now() + timedelta(days=6), tick=False):
        dispatch_cycle(
            enqueue=lambda ids, claim: deliver_batch(reminder_ids=ids, claim=claim),
        )
    sent = Reminder.objects.filter(
        episode=ana, audience="patient", status=ReminderStatus.SENT
    ).first()
    assert sent is not None, "the dispatch cycle should have sent Ana's 2-week reminder"
    for overall in ("worse", "same"):
        services.checkin_submit(
            reminder_id=sent.pk, overall=overall, disabling_pain=True, symptoms=["fever"]
        )
    return {name: Episode.objects.get(pk=e.pk) for name, e in episodes.items()}
