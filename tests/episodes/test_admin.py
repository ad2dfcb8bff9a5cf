"""The admin's transition buttons go through the service and explain refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from episodes.models import TransitionLog
from tests.clock import ONSET, at_day
from tests.factories import new_episode


@pytest.fixture
def staff_clinician(clinician):
    clinician.is_staff = True
    clinician.is_superuser = True
    clinician.save()
    return clinician


def change_url(episode) -> str:
    return reverse("admin:episodes_episode_change", args=[episode.pk])


def transition_url(episode, name: str) -> str:
    return reverse("admin:episodes_episode_transition", args=[episode.pk, name])


def test_refused_transition_shows_the_rule_and_changes_nothing(
    client, staff_clinician, patient, coordinator
):
    episode = new_episode(
        patient, coordinator, conservative_therapy_failed=True, candidate_for_esi=True
    )
    client.force_login(staff_clinician)
    with at_day(41):
        page = client.get(change_url(episode))
        assert b"confirm imaging eligibility" in page.content
        response = client.post(
            transition_url(episode, "confirm_imaging_eligibility"), {"note": ""}, follow=True
        )
    text = response.content.decode()
    assert "(CC-1)" in text
    assert "eligible on 2026-11-12" in text
    episode.refresh_from_db()
    assert episode.state == "conservative_care"
    assert not TransitionLog.objects.filter(episode=episode).exists()


def test_allowed_transition_through_the_admin_is_logged(
    client, staff_clinician, patient, coordinator
):
    episode = new_episode(
        patient, coordinator, conservative_therapy_failed=True, candidate_for_esi=True
    )
    client.force_login(staff_clinician)
    with at_day(42):
        response = client.post(
            transition_url(episode, "confirm_imaging_eligibility"), {"note": ""}, follow=True
        )
    assert "now imaging_eligible" in response.content.decode()
    log = TransitionLog.objects.get(episode=episode)
    assert (log.by, log.evaluated_on) == (staff_clinician, ONSET + timedelta(days=42))


def test_transition_with_a_body_uses_its_form(client, staff_clinician, patient, coordinator):
    episode = new_episode(patient, coordinator)
    client.force_login(staff_clinician)
    url = transition_url(episode, "close")
    with at_day(3):
        assert client.get(url).status_code == 200
        client.post(url, {"reason": "withdrawn", "note": "moved away"})
    episode.refresh_from_db()
    assert episode.state == "closed"
    assert episode.closure.reason == "withdrawn"


def test_state_is_read_only_in_the_admin(client, staff_clinician, patient, coordinator):
    episode = new_episode(patient, coordinator)
    client.force_login(staff_clinician)
    with at_day(1):
        client.post(change_url(episode), {"state": "resolved"})
    episode.refresh_from_db()
    assert episode.state == "conservative_care"


def test_html_in_notes_is_escaped_in_the_admin(client, staff_clinician, patient, coordinator):
    from episodes import services  # noqa: PLC0415

    episode = new_episode(patient, coordinator)
    with at_day(1):
        services.assessment_record(
            episode_id=episode.pk,
            by=coordinator,
            values={"radicular_pain": True},
            note="<script>alert(1)</script>",
        )
    client.force_login(staff_clinician)
    content = client.get(change_url(episode)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content
