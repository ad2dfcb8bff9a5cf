"""Fault: Redis stopped and started again, empty, while reminders are being dispatched.

A private redis-server without persistence (`--save ""`), so it comes back empty as a
production Redis without persistence does: the batches waiting in the queue and the one
each worker holds unacknowledged are gone. Beat (1 s tick) and two workers run under
scripts/respawn.sh, as `make run` runs them, with Celery's default reconnect attempts.

The rows are the record: the claimed batches whose messages vanished stay ``sending`` until
their lease runs out, then a dispatch cycle reclaims them and they are sent. Counted
afterwards: every reminder delivered once, none lost; no raw repeat (no worker died in the
middle of a send); both workers and beat answer again.

The second test is the supervision: a worker whose reconnect attempts run out (Celery then
logs "Unrecoverable error" and exits, status 1; with the default 100 attempts that takes
about 45 minutes of outage, here one attempt) is started again by scripts/respawn.sh until
Redis answers, and then delivers what beat dispatches.
"""

from __future__ import annotations

import time

import pytest
import redis

from notifications.models import Reminder
from tests.chaos.harness import (
    check_and_record,
    due_rows,
    sms_patient_episodes,
    wait_for,
    wait_until_done,
)

pytestmark = pytest.mark.chaos
PATIENTS = 10
REDIS_DOWN_SECONDS = 8


def test_redis_restarted_empty_mid_dispatch_every_reminder_delivered_once(rig, team, coordinator):
    rig.batch_size = 4
    rows = due_rows(sms_patient_episodes(team, coordinator, PATIENTS))
    ids = [r.pk for r in rows]
    rig.provider.answer_delay = 0.2
    rig.provider.hang_on_call = 3
    workers = [rig.worker(f"worker-{n}", respawn=True) for n in (1, 2)]
    beat = rig.beat("beat", respawn=True)

    assert rig.provider.hanging.wait(timeout=60), "dispatch never reached the third SMS"
    queued_before = rig.broker.queued(rig.queue)
    redis.Redis.from_url(rig.broker.url).set("chaos:before-restart", "1")
    rig.broker.stop()  # everything queued or unacknowledged in Redis is gone with it
    rig.provider.release.set()
    time.sleep(REDIS_DOWN_SECONDS)
    sending_while_down = Reminder.objects.filter(pk__in=ids, status="sending").count()
    rig.broker.start()
    # It came back empty. (Its queue's length says nothing: beat and the workers reconnect
    # within the same moment and may already have published again.)
    assert not redis.Redis.from_url(rig.broker.url).exists("chaos:before-restart")

    wait_until_done(ids, timeout=150)
    for worker in workers:
        wait_for(worker.answers, timeout=60, what=f"{worker.proc.name} to answer again")
    assert beat.alive()
    figures = check_and_record(
        "redis_restart",
        rows,
        rig.provider,
        rig.mail_dir,
        notes={
            "messages_queued_when_redis_stopped": queued_before,
            "rows_sending_while_redis_down": sending_while_down,
            "redis_down_seconds": REDIS_DOWN_SECONDS,
            "respawns": {p.name: p.respawns() for p in [*(w.proc for w in workers), beat]},
        },
    )
    assert figures.raw_repeats == 0
    assert sending_while_down > 0  # the fault hit claimed rows, not an idle system


def test_a_worker_that_exits_on_broker_loss_is_brought_back_by_its_supervisor(
    rig, team, coordinator
):
    worker = rig.worker("worker", respawn=True, CAREFLOW_CHAOS_BROKER_MAX_RETRIES="1")
    first_pid = worker.proc.child_pid()
    rig.broker.stop()
    # Celery gives up after its one reconnect attempt and exits; respawn.sh keeps starting
    # it again (each new one waits for Redis, then gives up too) with a growing delay.
    wait_for(
        lambda: worker.proc.respawns() >= 1, timeout=60, what="the worker to exit on broker loss"
    )
    assert "Unrecoverable error" in worker.proc.log()
    assert worker.proc.alive()  # the supervisor is still there
    rig.broker.start()
    worker.wait_ready()
    assert worker.proc.child_pid() != first_pid

    rows = due_rows(sms_patient_episodes(team, coordinator, 3))
    rig.beat("beat")
    wait_until_done([r.pk for r in rows], timeout=90)
    check_and_record(
        "worker_exits_on_broker_loss",
        rows,
        rig.provider,
        rig.mail_dir,
        notes={"worker_respawns": worker.proc.respawns()},
    )
