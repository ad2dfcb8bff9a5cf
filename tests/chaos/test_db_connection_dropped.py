"""Fault: the database connection dropped under a worker (and under beat).

PostgreSQL only: ``pg_terminate_backend`` ends the server side of the worker's and beat's
connections, as a database restart or failover does. The processes are found by their
``application_name`` (PGAPPNAME), so nothing else on the server is touched.

1. Mid-send: the second SMS of a batch is accepted by the provider and its answer held
   back; meanwhile the connections are terminated; then the answer comes. The worker
   cannot record it: the task fails, its rows stay ``sending`` under their lease. A later
   cycle reclaims them (the chunk's in-flight attempts become ``interrupted``: delivery is
   set-based) and they go; each interrupted one is first looked up in Twilio's
   message list, and those found are not re-sent.
2. Idle: the connections are terminated while nothing runs, then more reminders fall due.
   The worker and beat carry on with new connections.

Behind PgBouncer (`make chaos`'s second run) the terminated connections are the pooler's
server connections, and the pooler replaces them: the send in flight is usually recorded
as it is, and none may be interrupted.

Counted afterwards at the phones: every reminder delivered once, none lost, no raw repeat
(the interrupted ones Twilio took reconciled); the worker answers and beat is alive.
"""

from __future__ import annotations

import pytest
from django.db import connection

from notifications.models import DeliveryAttempt
from tests.chaos.harness import (
    check_and_record,
    due_rows,
    sms_patient_episodes,
    wait_until_done,
)

pytestmark = pytest.mark.chaos


def terminate_chaos_backends() -> int:
    """End the server side of every connection the rig's processes hold; how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE 'careflow-chaos-%%'"
        )
        return cursor.fetchone()[0]


def test_database_connections_dropped_under_worker_and_beat(rig, team, coordinator):
    rig.batch_size = 5
    first = due_rows(sms_patient_episodes(team, coordinator, 8))
    rig.provider.hang_on_call = 2
    worker = rig.worker("worker", respawn=True)
    beat = rig.beat("beat", respawn=True)

    assert rig.provider.hanging.wait(timeout=60), "dispatch never reached the second SMS"
    dropped_mid_send = terminate_chaos_backends()
    rig.provider.release.set()
    wait_until_done([r.pk for r in first], timeout=120)
    interrupted = list(DeliveryAttempt.objects.filter(reminder__in=first, outcome="interrupted"))

    dropped_idle = terminate_chaos_backends()
    second = due_rows(sms_patient_episodes(team, coordinator, 3))
    wait_until_done([r.pk for r in second], timeout=90)

    assert worker.answers()
    assert beat.alive()
    assert dropped_mid_send >= 1  # at least the worker's connection
    figures = check_and_record(
        "db_connection_dropped",
        first + second,
        rig.provider,
        rig.mail_dir,
        notes={
            "connections_dropped_mid_send": dropped_mid_send,
            "connections_dropped_idle": dropped_idle,
            "interrupted_attempts": len(interrupted),
            "respawns": {"worker": worker.proc.respawns(), "beat": beat.respawns()},
        },
    )
    # Set-based delivery: the chunk being sent is in doubt, not one row; the
    # ones Twilio took are reconciled, the others sent once.
    assert (figures.raw_repeats, figures.duplicated_sms) == (0, 0)
    assert figures.reconciled <= len(interrupted)
    if not rig.through_pooler:
        assert figures.reconciled >= 1
    # Behind PgBouncer in transaction mode the worker's own connection is to the pooler:
    # a server connection ended between two transactions is replaced before the worker's
    # next statement, so the answer is recorded and nothing is left in doubt.
