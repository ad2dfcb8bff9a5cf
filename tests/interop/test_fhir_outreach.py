"""A coordinator's outreach notes are FHIR Communications, valid R4B, only for their team.

In the episode's ``$everything``, read by id (``Communication/outreach-<id>``, apart from
the reminders' delivery attempts) and found by ``Communication?patient=``. A call that
reached the patient is ``completed`` and sent; one that did not is ``not-done``.
"""

from __future__ import annotations

import pytest

from interop import codes
from notifications.models import DeliveryAttempt
from tests.clock import at_day, local
from tests.interop.helpers import fhir_get, validate
from tests.notifications.helpers import run_cycle
from workspace.services import outreach_note_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(episode, coordinator):
    with at_day(5):
        spoke = outreach_note_add(
            episode_id=episode.pk, by=coordinator, kind="call_made", note="pain easing"
        )
    with at_day(6):
        missed = outreach_note_add(episode_id=episode.pk, by=coordinator, kind="no_answer")
    return spoke, missed


def communications(bundle: dict) -> dict[str, dict]:
    """The Bundle's Communications by id, the Bundle and each validated."""
    validate(bundle)
    found = {}
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        validate(resource)
        if resource["resourceType"] == "Communication":
            found[resource["id"]] = resource
    return found


def test_outreach_is_in_everything_as_valid_communications(notes, episode, coordinator):
    spoke, missed = notes
    bundle = fhir_get(coordinator, f"EpisodeOfCare/{episode.pk}/$everything").json()
    found = communications(bundle)
    reached = found[f"outreach-{spoke.pk}"]
    assert reached["status"] == "completed"
    assert reached["sent"] == spoke.at.isoformat()
    assert reached["subject"] == {"reference": f"Patient/{episode.patient_id}"}
    assert reached["recipient"] == [{"reference": f"Patient/{episode.patient_id}"}]
    assert reached["sender"] == {"display": coordinator.username}
    assert reached["medium"][0]["coding"][0]["code"] == "PHONE"
    assert reached["category"][0]["coding"][0] == {
        "system": codes.OUTREACH,
        "code": "call_made",
        "display": "Call made, spoke to the patient",
    }
    assert reached["note"] == [{"text": "pain easing"}]
    assert reached["extension"][0]["valueReference"] == {"reference": f"EpisodeOfCare/{episode.pk}"}
    not_reached = found[f"outreach-{missed.pk}"]
    assert not_reached["status"] == "not-done"
    assert not_reached["statusReason"] == {"text": "Called, no answer"}
    assert "sent" not in not_reached
    assert "note" not in not_reached


def test_an_outreach_communication_is_read_by_its_id(notes, coordinator):
    spoke, _missed = notes
    response = fhir_get(coordinator, f"Communication/outreach-{spoke.pk}")
    assert response.status_code == 200
    assert validate(response.json())
    assert response.json()["id"] == f"outreach-{spoke.pk}"
    for wrong in ("outreach-0", "outreach-x", f"outreach-{spoke.pk}0", "outreach-"):
        assert fhir_get(coordinator, f"Communication/{wrong}").status_code == 404


def test_a_search_finds_outreach_and_names_no_other_team(
    notes, episode, other_episode, coordinator, other_coordinator
):
    spoke, missed = notes
    with at_day(5):
        theirs = outreach_note_add(
            episode_id=other_episode.pk, by=other_coordinator, kind="letter_sent"
        )
    mine = fhir_get(coordinator, "Communication", patient=episode.patient_id).json()
    assert set(communications(mine)) == {f"outreach-{spoke.pk}", f"outreach-{missed.pk}"}
    assert mine["total"] == 2
    everyone = communications(fhir_get(coordinator, "Communication").json())
    assert f"outreach-{theirs.pk}" not in everyone
    assert (
        communications(
            fhir_get(coordinator, "Communication", patient=other_episode.patient_id).json()
        )
        == {}
    )
    assert fhir_get(coordinator, f"Communication/outreach-{theirs.pk}").status_code == 404
    letter = fhir_get(other_coordinator, f"Communication/outreach-{theirs.pk}").json()
    assert letter["medium"][0]["coding"][0]["code"] == "MAILWRIT"
    assert fhir_get(other_coordinator, f"Communication/outreach-{spoke.pk}").status_code == 404
    their_bundle = fhir_get(other_coordinator, f"EpisodeOfCare/{other_episode.pk}/$everything")
    assert set(communications(their_bundle.json())) == {f"outreach-{theirs.pk}"}


def test_a_search_merges_delivery_attempts_and_outreach_by_time(notes, episode, coordinator):
    spoke, missed = notes  # days 5 and 6
    run_cycle(local(episode.symptom_onset.replace(day=15), 10))  # the 2-week reminder, day 14
    attempts = DeliveryAttempt.objects.filter(reminder__episode=episode).order_by("at", "id")
    assert attempts.count() == 2  # the patient's and the care team's
    everything = fhir_get(coordinator, "Communication", patient=episode.patient_id).json()
    assert [e["resource"]["id"] for e in everything["entry"]] == [
        f"outreach-{spoke.pk}",
        f"outreach-{missed.pk}",
        *(str(a.pk) for a in attempts),
    ]
    first = fhir_get(coordinator, "Communication", patient=episode.patient_id, _count=1).json()
    assert [e["resource"]["id"] for e in first["entry"]] == [f"outreach-{spoke.pk}"]
    assert first["total"] == 4
    assert fhir_get(coordinator, "Communication", patient="Patient/x").status_code == 400
