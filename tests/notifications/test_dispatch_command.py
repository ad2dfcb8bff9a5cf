"""`manage.py dispatch_reminders`: one cycle in the foreground, claiming and sending."""

from __future__ import annotations

from datetime import date
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine
from django.core import mail
from django.core.management import call_command

from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll, reminder

ONSET = date(2026, 3, 2)
NOW = local(date(2026, 3, 24), 10)  # New York; 23:00 in Tokyo


def test_the_command_sends_and_prints_what_it_did(team, coordinator):
    on_time = enroll(
        PatientFactory(care_team=team),
        coordinator,
        onset=date(2026, 3, 10),
        on=ONSET.replace(day=10),
    )
    late = enroll(
        PatientFactory(care_team=team), coordinator, onset=ONSET, on=date(2026, 3, 24), hour=9
    )
    asleep = enroll(
        PatientFactory(care_team=team, timezone="Asia/Tokyo"),
        coordinator,
        onset=date(2026, 3, 10),
        on=date(2026, 3, 10),
    )
    out = StringIO()

    with time_machine.travel(NOW, tick=False):
        call_command("dispatch_reminders", stdout=out)

    # Sent: the 2-week patient email (NY) and both care-team notices (on_time, asleep).
    assert out.getvalue().strip() == (
        "sent=3 deferred=1 skipped=2 failed=0 retrying=0 cancelled=0 reclaimed=0"
    )
    assert reminder(on_time).status == "sent"
    assert reminder(late).status == reminder(late, audience="care_team").status == "skipped"
    assert reminder(asleep).status == "scheduled"
    assert reminder(asleep, audience="care_team").status == "sent"
    assert len(mail.outbox) == 3

    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("dispatch_reminders", stdout=out)
    # Nothing is due any more: the Tokyo reminder now waits for 08:00 there.
    assert out.getvalue().startswith("sent=0 deferred=0 skipped=0 failed=0")
    assert reminder(asleep).next_attempt_at == local(
        date(2026, 3, 25), 8, zone=ZoneInfo("Asia/Tokyo")
    )
