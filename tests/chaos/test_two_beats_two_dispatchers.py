"""Fault: two beats and two dispatchers running at once (an operator's mistake, or a deploy).

Two real `celery beat` processes on the DatabaseScheduler (1 s tick each) feed two workers,
while two more processes run `manage.py dispatch_reminders` in a loop, claiming and sending
in their own process: four dispatchers over the same rows, in small batches, with a
provider slow enough that they overlap. Counted afterwards: every reminder delivered once,
with exactly one attempt and one raw call, whoever sent it.
"""

from __future__ import annotations

from collections import Counter

import pytest

from notifications.models import DeliveryAttempt
from tests.chaos.harness import (
    check_and_record,
    due_rows,
    sms_patient_episodes,
    wait_for,
    wait_until_done,
)

pytestmark = pytest.mark.chaos
PATIENTS = 25


def test_two_beats_and_two_dispatchers_send_each_reminder_once(rig, team, coordinator):
    rig.batch_size = 3
    rows = due_rows(sms_patient_episodes(team, coordinator, PATIENTS))
    rig.provider.answer_delay = 0.15
    rig.worker("worker-1")
    rig.worker("worker-2")
    beats = [rig.beat("beat-1"), rig.beat("beat-2")]
    loops = [rig.dispatcher_loop(f"dispatcher-{n}", cycles=60, pause=0.3) for n in (1, 2)]

    wait_until_done([r.pk for r in rows], timeout=120)
    for loop in loops:
        wait_for(lambda loop=loop: not loop.alive(), timeout=60, what=f"{loop.name} to finish")
        assert loop.process.returncode == 0, loop.log()[-4000:]
    for beat in beats:
        assert beat.log().count("Sending due task dispatch-reminders") >= 1, beat.name

    sent_by_loops = sum(
        int(part.split("=")[1])
        for loop in loops
        for line in loop.log().splitlines()
        for part in line.split()
        if part.startswith("sent=")
    )
    figures = check_and_record(
        "two_beats_two_dispatchers",
        rows,
        rig.provider,
        rig.mail_dir,
        notes={
            "sent_by_dispatch_loops": sent_by_loops,
            "sent_by_workers": len(rows) - sent_by_loops,
        },
    )
    assert figures.raw_calls == len(rows)  # no repeat at all: nothing crashed
    attempts = DeliveryAttempt.objects.filter(reminder__in=rows)
    assert Counter(attempts.values_list("reminder_id", "outcome")) == {
        (r.pk, "sent"): 1 for r in rows
    }
