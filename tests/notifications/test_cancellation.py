"""A reminder that no longer serves is cancelled, not sent (PATHWAY.md "Milestones")."""

from __future__ import annotations

from datetime import date

import time_machine
from django.core import mail

from episodes import services
from notifications.delivery.batch import deliver_claimed
from tests.clock import local
from tests.notifications.helpers import claim_only, enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)


def _transition(episode, name, by, on, **data):
    with time_machine.travel(local(on, 11), tick=False):
        return services.episode_transition(episode_id=episode.pk, name=name, by=by, data=data)


def test_resolving_the_episode_cancels_every_reminder_not_yet_sent(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    _transition(episode, "resolve", coordinator, date(2026, 3, 5), note="better")

    assert set(episode.reminders.values_list("status", "status_reason")) == {
        ("cancelled", "episode resolved")
    }
    _, delivered = run_cycle(local(date(2026, 3, 16), 9))
    assert (delivered.sent, mail.outbox) == (0, [])


def test_closing_cancels_but_leaves_what_was_already_sent(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    run_cycle(local(date(2026, 3, 16), 9))
    assert reminder(episode).status == "sent"

    _transition(episode, "close", coordinator, date(2026, 3, 20), reason="transferred")

    statuses = dict(episode.reminders.values_list("milestone", "status").filter(audience="patient"))
    assert statuses == {"2_weeks": "sent", "6_weeks": "cancelled", "3_months": "cancelled"}


def test_the_referral_cancels_the_three_month_care_team_reminder_only(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET, radicular_pain=True)
    _transition(episode, "refer_to_specialist", coordinator, date(2026, 4, 1), urgency="routine")

    care_team = reminder(episode, "3_months", "care_team")
    assert (care_team.status, care_team.status_reason) == ("cancelled", "referral made (REF-1 met)")
    # The patient's follow-up check-in still goes.
    assert reminder(episode, "3_months", "patient").status == "scheduled"


def test_an_episode_closed_after_the_claim_is_cancelled_by_the_worker(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    batches = claim_only(local(date(2026, 3, 16), 9))
    assert reminder(episode).status == "sending"
    _transition(episode, "close", coordinator, date(2026, 3, 16), reason="withdrawn")

    with time_machine.travel(local(date(2026, 3, 16), 9, 1), tick=False):
        for ids, claim in batches:
            deliver_claimed(reminder_ids=ids, claim=claim)

    row = reminder(episode)
    assert (row.status, row.status_reason, row.attempts) == ("cancelled", "episode closed", 0)
    assert mail.outbox == []
