"""Fault: a worker killed with SIGKILL in the middle of a batch.

Real beat (1 s tick) and a worker under scripts/respawn.sh, on a private Redis. The fourth
SMS of the first batch is accepted by the provider and its answer held back; the worker
is killed while it waits (the crash-in-flight window), with rows of its batch still
untried. The supervisor starts the worker again; once the lease runs out a dispatch cycle
reclaims the batch (the in-flight attempt becomes ``interrupted``); the new worker asks
Twilio's message list about the interrupted one, finds it, records it as sent, and sends
the rest. Counted afterwards at the patients' phones (the fake deduplicates nothing):
every reminder delivered once, no raw repeat.
"""

from __future__ import annotations

import os
import signal
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
PATIENTS = 8


def test_worker_killed_mid_batch_every_reminder_delivered_once(rig, team, coordinator):
    rig.batch_size = 6
    rows = due_rows(sms_patient_episodes(team, coordinator, PATIENTS))
    rig.provider.hang_on_call = 4
    worker = rig.worker("worker", respawn=True)
    first_pid = worker.proc.child_pid()
    rig.beat("beat")

    assert rig.provider.hanging.wait(timeout=60), "the worker never reached the fourth SMS"
    os.kill(first_pid, signal.SIGKILL)
    rig.provider.release.set()  # the answer goes to a dead socket

    in_flight = DeliveryAttempt.objects.get(reminder__in=rows, outcome="in_flight")
    statuses = Counter(r.status for r in due_rows([r.episode for r in rows]))
    assert statuses["sending"] >= 2, statuses  # the hung one and the untried rest of its batch

    # The supervisor brings the worker back; the batch waits for its lease, then goes.
    wait_for(
        lambda: worker.proc.child_pid() not in {None, first_pid},
        timeout=30,
        what="respawn.sh to start the worker again",
    )
    worker.wait_ready()
    wait_until_done([r.pk for r in rows], timeout=120)

    interrupted = DeliveryAttempt.objects.get(pk=in_flight.pk)
    assert interrupted.outcome == "interrupted"
    reconciled = DeliveryAttempt.objects.get(
        reminder_id=in_flight.reminder_id, outcome="reconciled"
    )
    (taken,) = [m for m in rig.provider.messages if m.sid == reconciled.provider_message_id]
    figures = check_and_record(
        "worker_sigkill",
        rows,
        rig.provider,
        rig.mail_dir,
        notes={
            "killed_while_sending": f"reminder-{in_flight.reminder_id}",
            "rows_sending_at_kill": statuses["sending"],
            "worker_respawns": worker.proc.respawns(),
            # The remaining window: how long after Twilio took the message it was looked
            # up (the list call); a message Twilio listed later than this would go twice.
            "reconciled_after_seconds": round(
                (reconciled.at - taken.date_created).total_seconds(), 1
            ),
        },
    )
    # Twilio had taken the interrupted one: found by the list call, recorded, not re-sent.
    assert (figures.raw_repeats, figures.reconciled, figures.duplicated) == (0, 1, 0)
    assert Counter(rig.provider.raw_tokens())[f"reminder-{in_flight.reminder_id}"] == 1
    assert interrupted.reminder.deliveries.last().outcome == "reconciled"
    assert worker.proc.respawns() == 1
