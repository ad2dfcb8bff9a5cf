"""The factories write through the services: derived columns and reminders are the real ones."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from careflow import rules
from notifications.models import Reminder
from tests.clock import ONSET, moment
from tests.factories import (
    EpisodeFactory,
    ImagingStudyFactory,
    RedFlagFactory,
    ReminderFactory,
    new_episode,
)

pytestmark = pytest.mark.django_db


def test_an_episode_is_made_by_its_service_on_the_fixed_calendar(patient, coordinator):
    episode = new_episode(patient, coordinator, day=3, radicular_pain=True)
    assert episode.enrolled_on == date(2026, 10, 4)
    assert episode.symptom_onset == episode.conservative_care_start == ONSET
    assert episode.next_deadline_rule == rules.CC_1
    assert episode.facts == {"radicular_pain": True}
    assert Reminder.objects.filter(episode=episode).count() == 6


def test_an_episode_on_dates_of_its_own(patient):
    episode = EpisodeFactory(
        patient=patient, symptom_onset=date(2026, 3, 2), conservative_care_start=None,
        at=moment(0, date(2026, 3, 9)),
    )  # fmt: skip
    assert episode.conservative_care_start == episode.enrolled_on == date(2026, 3, 9)


def test_a_red_flag_escalates_its_episode(episode, clinician):
    flag = RedFlagFactory(episode=episode, sign="saddle_anesthesia", by=clinician, at=moment(5))
    episode.refresh_from_db()
    assert flag.category == rules.RF_1
    assert episode.state == "urgent_escalation"


def test_an_imaging_study_in_the_future_is_refused_as_by_its_service(episode):
    assert ImagingStudyFactory(episode=episode, performed_on=ONSET).episode_id == episode.pk
    with pytest.raises(ValidationError):
        ImagingStudyFactory(episode=episode, performed_on=date(2026, 10, 2), at=moment(0))


def test_a_reminder_row_is_written_as_given(episode):
    row = ReminderFactory(episode=episode, milestone="12_weeks", status="failed")
    assert Reminder.objects.get(pk=row.pk).status == "failed"
    assert ReminderFactory.build(episode=episode).pk is None
