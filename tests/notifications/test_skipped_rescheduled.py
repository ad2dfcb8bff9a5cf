"""A reminder skipped as stale is scheduled again when a correction makes it serve again.

PATHWAY.md "Facts change over time": "(its new date is ahead, or less than 7 days past)".
Onset recorded 30 days back: the dispatcher skips the 2-week check-in (16 days late); the
onset is then corrected. A row sent, or tried before it was skipped, never moves.
"""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.core import mail

from episodes import services
from tests.clients import client_for
from tests.clock import local
from tests.notifications.helpers import enroll, reminder, run_cycle

TODAY = date(2026, 3, 24)
WRONG_ONSET = TODAY - timedelta(days=30)  # the 2-week milestone was 8 March
SKIPPED = "more than 7 days late when it would go out"


def _skipped_two_week_reminders(patient, by):
    episode = enroll(patient, by, onset=WRONG_ONSET, on=TODAY, hour=9)
    run_cycle(local(TODAY, 10))
    for audience in ("patient", "care_team"):
        row = reminder(episode, "2_weeks", audience)
        assert (row.status, row.attempts, row.status_reason) == ("skipped", 0, SKIPPED)
    return episode


def _correct_onset(episode, by, onset: date, **also: date) -> None:
    with time_machine.travel(local(TODAY, 11), tick=False):
        services.episode_update(
            episode_id=episode.pk,
            by=by,
            fields={"symptom_onset": onset, **also},
            reason="onset read from the referral letter",
        )


def test_corrected_to_a_date_ahead_it_is_scheduled_again_and_sent_then(patient, coordinator):
    episode = _skipped_two_week_reminders(patient, coordinator)

    _correct_onset(episode, coordinator, TODAY - timedelta(days=3))  # 2 weeks: 4 April

    row = reminder(episode)
    assert (row.status, row.status_reason, row.attempts) == ("scheduled", "", 0)
    assert row.milestone_date == date(2026, 4, 4)
    assert row.due_at == row.next_attempt_at == local(date(2026, 4, 4), 9)
    assert reminder(episode, "2_weeks", "care_team").status == "scheduled"
    run_cycle(local(date(2026, 4, 3), 10))
    assert reminder(episode).status == "scheduled"  # not due before its new date
    _, delivered = run_cycle(local(date(2026, 4, 4), 9, 1))
    assert reminder(episode).status == "sent"
    assert delivered.sent == 2
    assert [m.to for m in mail.outbox].count([patient.email]) == 1


def test_corrected_to_less_than_7_days_past_it_goes_at_the_next_cycle(patient, coordinator):
    episode = _skipped_two_week_reminders(patient, coordinator)

    _correct_onset(episode, coordinator, TODAY - timedelta(days=18))  # 2 weeks: 20 March

    row = reminder(episode)
    assert (row.status, row.milestone_date) == ("scheduled", date(2026, 3, 20))
    assert row.due_at == row.next_attempt_at == local(date(2026, 3, 20), 9)
    _, delivered = run_cycle(local(TODAY, 11, 1))
    assert reminder(episode).status == "sent"
    assert delivered.sent == 2


def test_corrected_to_a_date_still_more_than_7_days_past_it_stays_skipped(patient, coordinator):
    episode = _skipped_two_week_reminders(patient, coordinator)
    before = reminder(episode)

    _correct_onset(episode, coordinator, TODAY - timedelta(days=25))  # 2 weeks: 13 March

    row = reminder(episode)
    assert (row.status, row.status_reason) == ("skipped", SKIPPED)
    assert (row.milestone_date, row.due_at) == (before.milestone_date, before.due_at)
    _, delivered = run_cycle(local(TODAY, 11, 1))
    assert (delivered.sent, mail.outbox) == (0, [])


def test_a_row_tried_before_it_was_skipped_and_a_sent_row_never_move(
    sms_patient, coordinator, twilio
):
    onset = date(2026, 3, 2)  # the 2-week reminders are due 16 March, 09:00
    episode = enroll(sms_patient, coordinator, onset=onset, on=onset)
    twilio.fail_next(503)  # the SMS: a timeout's kind of error, it may have gone
    run_cycle(local(date(2026, 3, 16), 9))
    run_cycle(local(TODAY, 10))  # its retry comes 8 days late: skipped
    tried, sent = reminder(episode), reminder(episode, "2_weeks", "care_team")
    assert (tried.status, tried.attempts) == ("skipped", 1)
    assert sent.status == "sent"

    new_onset = TODAY - timedelta(days=3)
    _correct_onset(episode, coordinator, new_onset, conservative_care_start=new_onset)

    again, sent_again = reminder(episode), reminder(episode, "2_weeks", "care_team")
    assert (again.status, again.due_at) == ("skipped", tried.due_at)
    assert (sent_again.status, sent_again.due_at, sent_again.sent_at) == (
        "sent",
        sent.due_at,
        sent.sent_at,
    )
    _, delivered = run_cycle(local(date(2026, 4, 4), 9, 1))
    assert delivered.sent == 0
    assert twilio.delivered == {}


def test_over_http_a_correction_with_a_reason_reschedules_it(patient, coordinator):
    episode = _skipped_two_week_reminders(patient, coordinator)
    client = client_for(coordinator)
    path = f"/api/episodes/{episode.pk}/"

    with time_machine.travel(local(TODAY, 11), tick=False):
        still_stale = client.patch(
            path, {"symptom_onset": "2026-02-28", "reason": "typo"}, format="json"
        )
        after_stale = client.get(f"{path}reminders/").json()
        ahead = client.patch(
            path,
            {"symptom_onset": "2026-03-21", "reason": "onset read from the referral letter"},
            format="json",
        )
        after_ahead = client.get(f"{path}reminders/").json()

    assert (still_stale.status_code, ahead.status_code) == (200, 200)

    def two_weeks(rows):
        return {r["audience"]: r for r in rows if r["milestone"] == "2_weeks"}

    assert {r["status"] for r in two_weeks(after_stale).values()} == {"skipped"}
    rows = two_weeks(after_ahead)
    assert {r["status"] for r in rows.values()} == {"scheduled"}
    assert rows["patient"]["due_at"] == "2026-04-04T13:00:00Z"  # 09:00 in New York (EDT)
