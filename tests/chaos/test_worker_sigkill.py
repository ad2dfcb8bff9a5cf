"""Fault: a worker killed with SIGKILL in the middle of a batch.

Real beat (1 s tick) and a worker under scripts/respawn.sh, on a private Redis. The fourth
SMS of the first batch is accepted by the provider and its answer held back; the worker
is killed while it waits (the crash-in-flight window). Delivery is set-based:
the batch's SMS chunk was begun together, so every SMS of it has an ``in_flight``
attempt, the three sent before the hung one included. The supervisor starts the worker
again; once the lease runs out a dispatch cycle reclaims the batch (each attempt becomes
``interrupted``); the new worker asks Twilio's message list about each, finds those it
took, records them as sent (``reconciled``), and sends the others. Counted afterwards at
the patients' phones (the fake deduplicates nothing):
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
    respawned_then_done,
    sms_patient_episodes,
)

pytestmark = pytest.mark.chaos
PATIENTS = 8


def test_worker_killed_mid_batch_every_reminder_delivered_once(rig, team, coordinator):
    # Every due row in the first batch, whatever order the claim takes them in: the SMS and
    # the care team's emails fall due at moments set by the patients' zone and the team's,
    # so how they interleave depends on the hour the test runs at; with smaller batches the
    # fourth SMS could be in a batch of its own.
    rig.batch_size = 2 * PATIENTS
    rows = due_rows(sms_patient_episodes(team, coordinator, PATIENTS))
    rig.provider.hang_on_call = 4
    worker = rig.worker("worker", respawn=True)
    first_pid = worker.proc.child_pid()
    rig.beat("beat")

    assert rig.provider.hanging.wait(timeout=60), "the worker never reached the fourth SMS"
    os.kill(first_pid, signal.SIGKILL)
    rig.provider.release.set()  # the answer goes to a dead socket

    in_flight = list(DeliveryAttempt.objects.filter(reminder__in=rows, outcome="in_flight"))
    taken = set(rig.provider.raw_tokens())  # what Twilio accepted before the kill
    statuses = Counter(r.status for r in due_rows([r.episode for r in rows]))
    assert statuses["sending"] >= 2, statuses  # the hung one and the untried rest of its batch
    # The SMS chunk began together: every SMS the worker had called for is in flight.
    assert len(in_flight) >= len(taken) >= rig.provider.hang_on_call

    # The supervisor brings the worker back; the batch waits for its lease, then goes.
    respawned_then_done(worker, first_pid, rows)

    interrupted = DeliveryAttempt.objects.filter(pk__in=[a.pk for a in in_flight])
    assert set(interrupted.values_list("outcome", flat=True)) == {"interrupted"}
    reconciled = list(
        DeliveryAttempt.objects.filter(reminder__in=rows, outcome="reconciled").select_related(
            "reminder"
        )
    )
    assert {f"reminder-{a.reminder_id}" for a in reconciled} == {
        f"reminder-{a.reminder_id}" for a in in_flight
    } & taken
    created = {m.sid: m.date_created for m in rig.provider.messages}
    figures = check_and_record(
        "worker_sigkill",
        rows,
        rig.provider,
        rig.mail_dir,
        notes={
            "rows_in_flight_at_kill": len(in_flight),
            "rows_sending_at_kill": statuses["sending"],
            "worker_respawns": worker.proc.respawns(),
            # The remaining window: how long after Twilio took a message it was looked up
            # (the list call); a message Twilio listed later than this would go twice.
            "reconciled_after_seconds_min": min(
                round((a.at - created[a.provider_message_id]).total_seconds(), 1)
                for a in reconciled
            ),
        },
    )
    # Twilio had taken the interrupted ones it took: found by the list call, not re-sent.
    assert (figures.raw_repeats, figures.duplicated) == (0, 0)
    assert figures.reconciled == len(reconciled) >= 1
    assert figures.interrupted_attempts == len(in_flight)
    assert worker.proc.respawns() == 1
