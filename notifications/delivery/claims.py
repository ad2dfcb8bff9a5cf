"""Claiming due reminders: the claim statement, the reclaim, and the loops that run them.

Beat's task runs ``drain_due`` every minute (``manage.py dispatch_reminders`` runs the
same, delivering in its own process):

1. **reclaim** rows left ``sending`` past their lease (a worker killed, Redis restarted):
   an attempt begun is marked ``interrupted`` and the row is due again, so before any
   re-send the provider is asked whether it took the message (``attempts.reconcile``);
2. **claim** batch after batch (``CAREFLOW_REMINDER_BATCH_SIZE``), each in one short
   transaction: due rows are marked ``sending`` under a fresh claim token and a lease, and
   after the commit the batch's IDs and token are handed on (``enqueue``: a worker task,
   or the command's own process). Rows more than 7 days late are ``skipped`` instead
   (PATHWAY.md: they go to the care team's ``delivery_failures`` queue), and patient rows
   whose send moment falls in the patient's quiet hours are deferred to the morning;
3. until nothing is due or ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows are ``sending``
   (back-pressure on unfinished work). Each worker that finishes a batch claims the next
   (``top_up``), so a burst drains at the workers' speed and nobody sleeps in a worker slot.

**Alerts first**: care-team alerts (``Reminder.alert``) are picked before any routine row,
through their own partial index; while one is due, a batch holds alerts only. They are
claimed whatever the room, and their batches use none of it (to ``enqueue_alerts``).

Two dispatchers at once: ``SKIP LOCKED`` gives each batch rows no other dispatcher holds,
and a worker acts on a row only while it still carries its batch's token
(``attempts.held_by``).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from careflow.schedule import is_stale
from episodes.models import Episode, Patient
from notifications.delivery.attempts import STALE_REASON, held_by, lease, quiet_until
from notifications.models import AttemptOutcome, DeliveryAttempt, Reminder, ReminderStatus

logger = logging.getLogger(__name__)

# ``enqueue(ids, claim)``: hand a claimed batch on, after its claim committed.
Enqueue = Callable[[list[int], str], None]


@dataclass
class DispatchCounts:
    """What a dispatcher did: rows reclaimed, given back, claimed; the batches handed on."""

    reclaimed: int = 0
    skipped: int = 0
    deferred: int = 0
    claimed: int = 0
    alerts: int = 0  # of the rows claimed, alerts (each in a batch of alerts only)
    failed: int = 0  # rows given up on at reclaim (their last attempt was interrupted)
    batches: list[tuple[list[int], str]] = field(default_factory=list)


# -- the loops ------------------------------------------------------------------------------


def drain_due(
    *, enqueue: Enqueue, now: datetime | None = None, enqueue_alerts: Enqueue | None = None
) -> DispatchCounts:
    """Beat's cycle: reclaim, then claim up to the in-flight ceiling; no fixed cap.

    A burst larger than the ceiling is not left to the next tick: each worker that
    finishes a batch claims the next (``top_up``), so the burst drains at the workers'
    speed. If that chain breaks (a worker killed, Redis lost), the next tick restarts it.
    """
    counts = DispatchCounts()
    reclaim_expired(now=now or timezone.now(), counts=counts)
    claim_while_room(enqueue=enqueue, enqueue_alerts=enqueue_alerts, counts=counts, now=now)
    logger.info(
        "dispatch drain reclaimed=%s skipped=%s deferred=%s claimed=%s batches=%s",
        counts.reclaimed,
        counts.skipped,
        counts.deferred,
        counts.claimed,
        len(counts.batches),
    )
    return counts


def in_flight_rows() -> int:
    """Rows claimed and not finished: what the workers still hold (partial index)."""
    return Reminder.objects.filter(status=ReminderStatus.SENDING).count()


def claim_while_room(
    *,
    enqueue: Enqueue,
    counts: DispatchCounts,
    now: datetime | None = None,
    enqueue_alerts: Enqueue | None = None,
) -> DispatchCounts:
    """Claim batch after batch until nothing is due or the workers hold enough.

    Back-pressure on unfinished work: while ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows or
    more are ``sending`` (claimed, not finished), no routine row is claimed; the worker
    that finishes a batch claims the next (``top_up``), so claims follow the workers'
    speed. Alerts are claimed whatever the room (to ``enqueue_alerts``) and use none of it.
    """
    room = settings.CAREFLOW_DISPATCH_MAX_IN_FLIGHT - in_flight_rows()
    while True:
        claimed = claim_and_enqueue(
            enqueue=enqueue,
            enqueue_alerts=enqueue_alerts,
            now=now,
            counts=counts,
            routine=room > 0,
        )
        if claimed is None:
            break
        if not claimed.alerts:
            room -= max(len(claimed.ids), 1)
    return counts


def top_up(*, enqueue: Enqueue, enqueue_alerts: Enqueue | None = None) -> DispatchCounts:
    """After a worker finished a batch: one batch in its place, without counting.

    Alerts due are claimed first (to ``enqueue_alerts``), each batch of them besides the
    one routine batch: in a burst, the first worker to finish a batch after an alert is
    written claims it.

    The batch just finished held part of the room beat's tick filled (``drain_due``: up to
    ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows ``sending``), so one batch in its place keeps
    the work in flight where the tick left it: back-pressure on unfinished batches. The
    tick counts once a minute and fills what a lost batch left empty. A top-up does not
    count: the count reads the partial index ``reminder_sending_lease``, which holds an
    entry for every row claimed since the last vacuum, dead or not: in a 50k burst at 1M
    it took 3.7 ms, once per batch of 100, and it grows with the burst
    (docs/PERFORMANCE.md, "Dispatch at 1M").
    """
    counts = DispatchCounts()
    while True:
        claimed = claim_and_enqueue(
            enqueue=enqueue, enqueue_alerts=enqueue_alerts, now=None, counts=counts
        )
        if claimed is None or not claimed.alerts:
            return counts


class Claimed(NamedTuple):
    """One claim's batch: its rows' IDs, and whether they are alerts.

    A batch holds alerts only, or none. Its IDs are empty when every row was given back
    (stale, or in quiet hours).
    """

    ids: list[int]
    alerts: bool


def claim_and_enqueue(
    *,
    enqueue: Enqueue,
    now: datetime | None,
    counts: DispatchCounts,
    enqueue_alerts: Enqueue | None = None,
    routine: bool = True,
) -> Claimed | None:
    """Claim one batch and hand it on; what was claimed, or None when nothing is due.

    Alerts first: while one is due, the batch is alerts only, handed to ``enqueue_alerts``
    (``enqueue`` when None). ``routine=False`` claims alerts only (back-pressure holds
    routine reminders, never an alert).
    """
    claimed = _claim(now=now or timezone.now(), counts=counts, routine=routine)
    if claimed is None:
        return None
    ids, claim, alerts = claimed
    if ids:
        counts.batches.append((ids, claim))
        if alerts:
            counts.alerts += len(ids)
        (enqueue_alerts if alerts and enqueue_alerts is not None else enqueue)(ids, claim)
    return Claimed(ids, alerts)


# -- the reclaim ----------------------------------------------------------------------------


@transaction.atomic
def reclaim_expired(*, now: datetime, counts: DispatchCounts | None = None) -> int:
    """Rows still ``sending`` past their lease go back to ``scheduled``, due at once.

    Their worker is gone (killed, or its message lost with Redis). An attempt it had begun
    is marked ``interrupted``: the provider may have accepted it, so before any re-send
    the provider is asked (``attempts.reconcile``). A row whose last allowed attempt was
    interrupted is ``failed`` rather than retried for ever (a message that kills its
    worker every time).
    """
    counts = counts if counts is not None else DispatchCounts()
    rows = list(
        Reminder.objects.select_for_update(skip_locked=True)
        .filter(status=ReminderStatus.SENDING, lease_expires_at__lt=now)
        .order_by("lease_expires_at", "id")
    )
    for row in rows:
        interrupted = DeliveryAttempt.objects.filter(
            reminder=row, outcome=AttemptOutcome.IN_FLIGHT
        ).update(
            outcome=AttemptOutcome.INTERRUPTED,
            finished_at=now,
            error="worker lost during the send: the provider may have accepted it",
        )
        row.claim_token, row.lease_expires_at = "", None
        if interrupted and row.attempts >= settings.CAREFLOW_REMINDER_MAX_ATTEMPTS:
            row.status = ReminderStatus.FAILED
            row.last_error = "worker lost during the last attempt; it may have been delivered"
            row.status_reason = f"gave up after {row.attempts} attempts"
            counts.failed += 1
        else:
            row.status, row.next_attempt_at = ReminderStatus.SCHEDULED, now
            row.status_reason = "reclaimed after its lease expired"
            counts.reclaimed += 1
        row.save()
        logger.warning("reminder reclaimed reminder=%s status=%s", row.pk, row.status)
    return len(rows)


# -- the claim ------------------------------------------------------------------------------


def due_rows(now: datetime) -> QuerySet[Reminder]:
    """Scheduled rows due by ``now``, oldest first: the partial index's exact shape."""
    return Reminder.objects.filter(
        status=ReminderStatus.SCHEDULED, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")


def due_picks(now: datetime) -> tuple[QuerySet[Reminder], QuerySet[Reminder]]:
    """The due alerts, then the due routine reminders, each locked, oldest first.

    Alerts through their own partial index ``reminder_alert_due`` (a handful of entries),
    the rest through ``reminder_due_scheduled``, where the alerts are filtered out. The
    claim statement is built from these (``_claim_sql``): they are its definition.
    """
    locked = due_rows(now).select_for_update(skip_locked=True)
    return locked.filter(alert=True), locked.filter(alert=False)


# Where ``_claim_sql`` compiles the picks: a moment no claim runs at, so the parameters
# that are the claim's ``now`` can be told apart.
_COMPILED_AT = datetime(1970, 1, 1, tzinfo=UTC)


@functools.cache
def _claim_sql(size: int) -> tuple[str, tuple[object, ...], frozenset[int]]:
    """The claim statement, its picks' parameters, and which of those are ``now``.

    Compiled once per process and batch size: the two picks through the ORM cost 0.33 ms
    of a 2.9 ms claim (the bench's database at 100k episodes). Must run in a transaction
    (the picks lock: Django compiles ``select_for_update`` in none other).
    """
    alerts_pick, routine_pick = (
        pick.values("pk")[:size].query.sql_with_params() for pick in due_picks(_COMPILED_AT)
    )
    params = (*alerts_pick[1], *routine_pick[1])
    at_now = frozenset(index for index, value in enumerate(params) if value == _COMPILED_AT)
    reminders = Reminder._meta.db_table  # noqa: SLF001
    episodes = Episode._meta.db_table  # noqa: SLF001
    patients = Patient._meta.db_table  # noqa: SLF001
    sql = (
        f"WITH alerts AS MATERIALIZED ({alerts_pick[0]}),"  # noqa: S608
        f" routine AS MATERIALIZED ({routine_pick[0]}),"
        " picked AS (SELECT pk FROM alerts UNION ALL SELECT pk FROM routine"
        " WHERE %s AND NOT EXISTS (SELECT 1 FROM alerts))"
        f" UPDATE {reminders} r SET status = %s,"
        " claim_token = %s, lease_expires_at = %s, updated_at = %s"
        f" FROM picked, {episodes} e, {patients} p WHERE r.id = picked.pk"
        " AND r.status = %s AND e.id = r.episode_id AND p.id = e.patient_id"
        " RETURNING r.id, r.due_at, r.audience, p.timezone, r.alert"
    )
    return sql, params, at_now


class _Picked(NamedTuple):
    """A row the claim statement marked ``sending``: what its ``RETURNING`` gives."""

    id: int
    due_at: datetime
    audience: str
    timezone: str  # the patient's
    alert: bool


@transaction.atomic
def _claim(
    *, now: datetime, counts: DispatchCounts, routine: bool
) -> tuple[list[int], str, bool] | None:
    """Claim up to one batch: (IDs, claim, alerts?); None when nothing is due.

    One statement: ``WITH alerts AS MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED LIMIT
    n), routine AS MATERIALIZED (the same for routine rows), picked AS (the alerts, or else
    the routine rows) UPDATE … FROM picked RETURNING`` the values staleness and quiet hours
    need (``due_picks``: each partial index's shape, so the cost is the due rows', not the
    episodes'). Materialized, so each pick runs once: as ``id IN (SELECT …)`` beside the
    join PostgreSQL may run it again per row, each run skipping the rows the update has
    just taken, and the limit no longer holds. The routine pick is read only when no alert
    was picked (a one-time filter on the alerts' ``EXISTS`` and ``routine``): a
    materialized CTE runs as far as it is read, so while an alert is due no routine row is
    even locked.

    The rules stay careflow's, decided here in Python on what the update returned: a stale
    row is ``skipped``, one in the patient's quiet hours is ``scheduled`` for the morning,
    both in the same transaction and conditional on this claim, so no other transaction
    ever sees them ``sending``.
    """
    sql, params, at_now = _claim_sql(settings.CAREFLOW_REMINDER_BATCH_SIZE)
    picks = [now if index in at_now else value for index, value in enumerate(params)]
    claim = uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *picks,
                routine,
                ReminderStatus.SENDING,
                claim,
                now + lease(),
                now,
                ReminderStatus.SCHEDULED,
            ],
        )
        rows = [_Picked(*values) for values in cursor.fetchall()]
    if not rows:
        return None
    held = Reminder.objects.filter(held_by(claim))
    given_back = {"claim_token": "", "lease_expires_at": None, "updated_at": now}
    stale, due = [], []
    for row in rows:
        if is_stale(row.due_at, now):
            stale.append(row.id)
        elif (morning := quiet_until(row.audience, row.timezone, now)) is not None:
            counts.deferred += held.filter(pk=row.id).update(
                status=ReminderStatus.SCHEDULED,
                next_attempt_at=morning,
                status_reason="deferred: quiet hours",
                **given_back,
            )
        else:
            due.append(row.id)
    if stale:
        counts.skipped += held.filter(pk__in=stale).update(
            status=ReminderStatus.SKIPPED, status_reason=STALE_REASON, **given_back
        )
    counts.claimed += len(due)
    return sorted(due), claim, rows[0].alert
