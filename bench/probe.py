"""Measurements that must run in a process of their own (another database, or peak memory).

``python -m bench.probe scan --due 1000`` and ``python -m bench.probe dispatcher-memory
--due 1000`` print one JSON line; DATABASE_URL and the other settings come from the
environment bench/run.py gives them. The SQL helpers here are shared with bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any

REMINDER = "notifications_reminder"


def park_due(cursor: Any) -> None:
    """Push every due or nearly due scheduled row a month out: only the chosen rows are due."""
    cursor.execute(
        f"UPDATE {REMINDER} SET next_attempt_at = next_attempt_at + interval '30 days'"
        " WHERE status = 'scheduled' AND next_attempt_at <= now() + interval '1 day'"
    )
    cursor.execute(
        f"UPDATE {REMINDER} SET status = 'scheduled', next_attempt_at ="
        " now() + interval '30 days', claim_token = '', lease_expires_at = NULL"
        " WHERE status = 'sending'"
    )


def make_due(cursor: Any, count: int) -> list[int]:
    """Make ``count`` scheduled rows (all still serving: see datagen) due a minute ago."""
    park_due(cursor)
    cursor.execute(
        f"UPDATE {REMINDER} SET due_at = now() - interval '1 minute',"
        " next_attempt_at = now() - interval '1 minute' WHERE id IN ("
        f" SELECT id FROM {REMINDER} WHERE status = 'scheduled' ORDER BY id LIMIT %s)"
        " RETURNING id",
        [count],
    )
    return sorted(row[0] for row in cursor.fetchall())


def reset_due(cursor: Any, ids: list[int]) -> None:
    """The rows back to scheduled and due, their attempts gone: the same work again."""
    cursor.execute("DELETE FROM notifications_deliveryattempt WHERE reminder_id = ANY(%s)", [ids])
    cursor.execute(
        f"UPDATE {REMINDER} SET status = 'scheduled', attempts = 0, claim_token = '',"
        " lease_expires_at = NULL, sent_at = NULL, provider_message_id = '',"
        " status_reason = '', last_error = '', due_at = now() - interval '1 minute',"
        " next_attempt_at = now() - interval '1 minute' WHERE id = ANY(%s)",
        [ids],
    )


def _setup() -> None:
    import django

    django.setup()


def scan(due: int, repeats: int) -> dict[str, Any]:
    """Wall time of beat's cycle (``drain_due``) claiming ``due`` rows (no delivery), median."""
    _setup()
    from django.db import connection

    from notifications.delivery.claims import drain_due

    with connection.cursor() as cursor:
        ids = make_due(cursor, due)
        cursor.execute(f"SELECT count(*) FROM {REMINDER}")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM episodes_episode")
        episodes = cursor.fetchone()[0]
    times, claimed = [], 0
    for _ in range(repeats):
        with connection.cursor() as cursor:
            reset_due(cursor, ids)
        started = time.perf_counter()
        counts = drain_due(enqueue=lambda _ids, _claim: None)
        times.append(time.perf_counter() - started)
        claimed = counts.claimed
    with connection.cursor() as cursor:
        reset_due(cursor, ids)
        park_due(cursor)
    return {
        "episodes": episodes,
        "reminders": total,
        "due": len(ids),
        "claimed_per_cycle": claimed,
        "cycle_ms_median": statistics.median(times) * 1000,
        "cycle_ms_all": [round(t * 1000, 1) for t in times],
    }


def dispatcher_memory(due: int) -> dict[str, Any]:
    """Peak memory of beat's cycle (``drain_due``: claims, publishes each batch to Redis)."""
    _setup()
    from django.db import connection

    from notifications.delivery.claims import drain_due
    from notifications.tasks import _enqueue_delivery

    with connection.cursor() as cursor:
        ids = make_due(cursor, due)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    counts = drain_due(enqueue=_enqueue_delivery)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "due": len(ids),
        "claimed": counts.claimed,
        "batches": len(counts.batches),
        "cycle_s": elapsed,
        "tracemalloc_peak_kib": peak / 1024,
        "maxrss_kib_before": rss_before,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["scan", "dispatcher-memory"])
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    result = scan(args.due, args.repeats) if args.what == "scan" else dispatcher_memory(args.due)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
