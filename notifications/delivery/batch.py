"""Set-based delivery (issue 16): begin a chunk's attempts together, send, finish together.

``notifications/delivery/dispatch.py`` delivers one row at a time: two short transactions and about
eight statements per reminder. Here a claimed batch is cut into chunks of one channel
(``CAREFLOW_REMINDER_CHUNK_SMS``, ``CAREFLOW_REMINDER_CHUNK_EMAIL``); per chunk:

1. **begin**, one transaction: rows that no longer serve (cancelled, stale, quiet hours)
   are settled one by one as before (rare); the rest are counted (their lease renewed when
   less than ``RENEW_BELOW`` of it is left) with one conditional ``UPDATE … RETURNING``
   (only rows still ``sending`` under this batch's claim and an unexpired lease come
   back), and one multi-row insert writes their ``in_flight`` attempts. Commit: every
   attempt row exists before its send.
2. **send** each row; a row whose earlier attempt is in doubt is first reconciled with the
   provider (``dispatch._reconcile_or_send``, per row, unchanged).
3. **finish**, one transaction: the accepted rows' attempts and reminders in two bulk
   updates; errors row by row (``dispatch._finish_attempt``, rare).

What a crash costs now: every row of the chunk being sent is left with an ``in_flight``
attempt (a row, before), so the reclaim marks the whole chunk ``interrupted`` and each of
its rows is reconciled with the provider before any re-send (docs/REMINDERS.md).

The dispatcher side, no fixed cap per cycle: beat's cycle (``drain_due``) reclaims, then
claims batches until nothing is due or ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows are
``sending`` (claimed, not finished: counted on the partial index
``reminder_sending_lease``); each worker that finishes a batch claims the next
(``top_up``). A burst drains at the workers' speed, and nobody sleeps in a worker slot.
Alerts are claimed first (``dispatch.claim_and_enqueue``), whatever the room, and their
batches are outside it: a batch of alerts neither uses a top-up's turn nor tops up.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.channels import channel_for, registered
from notifications.channels.base import DeliveryChannel, PermanentSendError, TransientSendError
from notifications.delivery.dispatch import (
    DeliveryCounts,
    DispatchCounts,
    Enqueue,
    Verdict,
    _begin_attempt,
    _finish_attempt,
    _lease,
    _not_now,
    _reconcile_or_send,
    _take_write_lock_on_sqlite,
    claim_and_enqueue,
    fail_on_verdict,
    held_by,
    log_cycle,
    provider_verdicts,
    reclaim_expired,
)
from notifications.delivery.messages import recipient_of, rendering_once
from notifications.delivery.rows import BegunAttempt, DeliveryRow, delivery_rows
from notifications.models import AttemptOutcome, DeliveryAttempt, Reminder, ReminderStatus
from notifications.providers.verdicts import FAILED_STATUSES

logger = logging.getLogger(__name__)

# -- the dispatcher: claim while the workers keep up ----------------------------------------


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
    that finishes a batch calls this again (``top_up``), so claims follow the workers'
    speed. Alerts are claimed whatever the room (to ``enqueue_alerts``) and use none of it.
    """
    ceiling = settings.CAREFLOW_DISPATCH_MAX_IN_FLIGHT
    room = ceiling - in_flight_rows()
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
    log_cycle("dispatch drain", counts)
    return counts


def top_up(*, enqueue: Enqueue, enqueue_alerts: Enqueue | None = None) -> DispatchCounts:
    """After a worker finished a batch: one batch in its place, without counting.

    Alerts due are claimed first (to ``enqueue_alerts``), each batch of them besides the
    one routine batch: in a burst, the first worker to finish a batch after an alert is
    written claims it.

    The batch just finished held part of the room beat's tick filled (``drain_due``: up to
    ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows ``sending``), so one batch in its place keeps
    the work in flight where the tick left it: back-pressure on unfinished batches. The
    tick counts once a minute and fills what a lost batch left empty.

    It used to count the rows ``sending`` first, like the tick. That count reads the
    partial index ``reminder_sending_lease``, which holds an entry for every row claimed
    since the last vacuum, dead or not: in a 50k burst at 1M it took 3.7 ms, once per
    batch of 100, and it grows with the burst (docs/PERFORMANCE.md, "Dispatch at 1M").
    """
    counts = DispatchCounts()
    while True:
        claimed = claim_and_enqueue(
            enqueue=enqueue, enqueue_alerts=enqueue_alerts, now=None, counts=counts
        )
        if claimed is None or not claimed.alerts:
            return counts


# -- the worker: a batch in chunks of one channel -------------------------------------------


@dataclass
class _Begun:
    row: DeliveryRow
    attempt: BegunAttempt
    provider_id: str = ""
    reconciled: bool = False
    error: TransientSendError | PermanentSendError | None = None


def chunk_size(channel: str) -> int:
    """Rows begun together: what a crash can leave in doubt (docs/REMINDERS.md).

    The channel's own (``DeliveryChannel.chunk_size``): SMS and email through Postmark are
    reconciled with the provider before a re-send; over SMTP nobody can be asked, so a
    crash may re-send the whole chunk: kept smaller. An unconfigured channel: one row.
    """
    known = registered().get(channel)
    return known.chunk_size() if known is not None else 1


def deliver_claimed(*, reminder_ids: Iterable[int], claim: str) -> DeliveryCounts:
    """The worker task's body: the batch's rows read once, then chunk by chunk.

    ``dispatch.deliver_one`` is the per-row path (two short transactions a row); a batch
    goes in chunks, so a crash leaves the chunk being sent in doubt (docs/REMINDERS.md).
    One transaction between two chunks' sends: it finishes the chunk just sent and begins
    the next (every attempt row still commits before its send). What the batch reads once:
    its rows, the addresses each channel refuses, each template (``BatchRenderer``).
    A batch past ``CAREFLOW_REMINDER_BATCH_SECONDS`` begins no further chunk: the rows it
    has not begun go back to ``scheduled`` (no attempt was made: nothing is in doubt).
    """
    ids = list(reminder_ids)
    rows = delivery_rows(ids)
    counts = DeliveryCounts()
    counts.lost += sum(1 for pk in ids if pk not in rows)
    by_channel: dict[str, list[DeliveryRow]] = {}
    for pk in ids:
        if pk in rows:
            by_channel.setdefault(rows[pk].channel, []).append(rows[pk])
    chunks = [
        members[start : start + size]
        for channel, members in by_channel.items()
        for size in [max(chunk_size(channel), 1)]
        for start in range(0, len(members), size)
    ]
    if not chunks:
        return counts
    deadline = time.monotonic() + settings.CAREFLOW_REMINDER_BATCH_SECONDS
    refused = _refused_lookup(list(rows.values()))
    begun = _step(finish=[], begin=chunks[0], claim=claim, counts=counts)
    with rendering_once():
        for index in range(len(chunks)):
            _send_chunk(begun, refused=refused)
            later = chunks[index + 1 :]
            if later and time.monotonic() > deadline:
                _step(finish=begun, begin=[], claim=claim, counts=counts)
                _release([row for chunk in later for row in chunk], claim=claim, counts=counts)
                break
            begun = _step(finish=begun, begin=later[0] if later else [], claim=claim, counts=counts)
    return counts


@transaction.atomic
def _step(
    *, finish: list[_Begun], begin: list[DeliveryRow], claim: str, counts: DeliveryCounts
) -> list[_Begun]:
    """One transaction: record the chunk just sent, begin the next one."""
    if finish:
        _finish_chunk(finish, claim=claim, counts=counts)
    return _begin_chunk(begin, claim=claim, counts=counts) if begin else []


def _send_chunk(begun: list[_Begun], *, refused: Callable[[DeliveryChannel, str], str]) -> None:
    for item in begun:
        try:
            item.provider_id, item.reconciled = _reconcile_or_send(item.row, refused=refused)
        except (TransientSendError, PermanentSendError) as exc:
            item.error = exc
        except Exception as exc:  # noqa: BLE001 - recorded on the row, not lost
            # Only the type: an unexpected exception's text might quote the message.
            item.error = TransientSendError(f"unexpected {type(exc).__name__}")
            logger.error(  # noqa: TRY400 - no traceback: it could carry patient details
                "reminder send raised unexpectedly reminder=%s error=%s",
                item.row.pk,
                type(exc).__name__,
            )


@transaction.atomic
def _release(rows: list[DeliveryRow], *, claim: str, counts: DeliveryCounts) -> None:
    """Rows of the batch not begun (out of time): ``scheduled`` again, due at once.

    Conditional on the claim: a row reclaimed meanwhile is not touched. No attempt was
    made for them, so nothing is in doubt; the next claim picks them up.
    """
    _take_write_lock_on_sqlite()
    now = timezone.now()
    released = Reminder.objects.filter(held_by(claim), pk__in=[row.pk for row in rows]).update(
        status=ReminderStatus.SCHEDULED,
        claim_token="",
        lease_expires_at=None,
        next_attempt_at=now,
        status_reason="released: its batch ran out of time",
        updated_at=now,
    )
    counts.released += released
    counts.lost += len(rows) - released
    logger.warning("reminders released count=%s: the batch ran out of time", released)


def _refused_lookup(rows: list[DeliveryRow]) -> Callable[[DeliveryChannel, str], str]:
    """What each channel refuses of the batch's recipients: one query per channel.

    The recipients are the patients' addresses on the row's channel and the care team's
    email; any other address is asked one by one (cached for the batch).
    """
    asked: dict[str, set[str]] = {}
    for row in rows:
        channel = registered().get(row.channel)
        if channel is not None:
            address = recipient_of(row, channel)
            if address:
                asked.setdefault(channel.name, set()).add(address)
    known = {name: channel_for(name).refused(addresses) for name, addresses in asked.items()}

    @functools.cache
    def refused(channel: DeliveryChannel, address: str) -> str:
        if address in asked.get(channel.name, ()):
            return known[channel.name].get(address, "")
        return channel.refused([address]).get(address, "")

    return refused


@transaction.atomic(savepoint=False)
def _begin_chunk(rows: list[DeliveryRow], *, claim: str, counts: DeliveryCounts) -> list[_Begun]:
    """One transaction: settle rows that must not go now, begin the rest together."""
    _take_write_lock_on_sqlite()
    now = timezone.now()
    sendable: list[DeliveryRow] = []
    for row in rows:
        if _not_now(row, now) is None:
            sendable.append(row)
        else:
            # The per-row path settles it (conditional on the claim) and counts it.
            _begin_attempt(row=row, claim=claim, counts=counts)
    if not sendable:
        return []
    if connection.vendor == "postgresql":
        return _begin_together(sendable, claim=claim, now=now, counts=counts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_hold(sendable)} RETURNING id, attempts", _hold_params(sendable, claim, now)
        )
        held = dict(cursor.fetchall())
    counts.lost += len(sendable) - len(held)
    begun = [row for row in sendable if row.pk in held]
    created = DeliveryAttempt.objects.bulk_create(
        [
            DeliveryAttempt(
                reminder_id=row.pk,
                attempt=held[row.pk],
                channel=row.channel,
                outcome=AttemptOutcome.IN_FLIGHT,
            )
            for row in begun
        ]
    )
    ids = {attempt.reminder_id: attempt.pk for attempt in created}
    if any(pk is None for pk in ids.values()):  # a database that returns no ids
        ids = dict(
            DeliveryAttempt.objects.filter(
                reminder_id__in=[row.pk for row in begun], outcome=AttemptOutcome.IN_FLIGHT
            ).values_list("reminder_id", "pk")
        )
    for row in begun:
        row.attempts = held[row.pk]
    return [_Begun(row=row, attempt=BegunAttempt(ids[row.pk], row.attempts)) for row in begun]


def _hold(sendable: list[DeliveryRow]) -> str:
    """The conditional update that begins rows: only those this batch still holds.

    The lease is renewed only when less than ``RENEW_BELOW`` of it is left: a chunk begun
    soon after its claim (the usual case) leaves ``lease_expires_at`` as it is, so the
    update changes no indexed column and PostgreSQL can make it a HOT update (no new
    entry in the table's indexes: ``reminder_sending_lease`` indexes the lease).

    The rows are found by id only: "still held" is one CASE (``dispatch.held_by`` says
    why: as separate conditions PostgreSQL read the whole ``reminder_sending_lease`` index).
    """
    table = Reminder._meta.db_table  # noqa: SLF001
    ids = "= ANY(%s)" if _arrays() else f"IN ({', '.join(['%s'] * len(sendable))})"
    return (
        f"UPDATE {table} SET attempts = attempts + 1, lease_expires_at = CASE"  # noqa: S608
        " WHEN lease_expires_at < %s THEN %s ELSE lease_expires_at END,"
        f" updated_at = %s WHERE id {ids} AND CASE WHEN status = %s"
        " AND claim_token = %s AND lease_expires_at > %s THEN TRUE ELSE FALSE END"
    )


def _arrays() -> bool:
    """Lists go to PostgreSQL as one array parameter (SQLite has no arrays)."""
    return connection.vendor == "postgresql"


# A chunk's begin renews the lease when less than this share of it is left: at least
# 3/4 of the lease (225 s of 300) then covers the chunk's sends at their timeouts
# (20 x 10 s = 200 s; docs/REMINDERS.md).
RENEW_BELOW = 0.75


def _hold_params(sendable: list[DeliveryRow], claim: str, now: datetime) -> list[object]:
    ids = [row.pk for row in sendable]
    renew_below = now + _lease() * RENEW_BELOW
    listed = [ids] if _arrays() else ids
    return [renew_below, now + _lease(), now, *listed, ReminderStatus.SENDING, claim, now]


def _begin_together(
    sendable: list[DeliveryRow], *, claim: str, now: datetime, counts: DeliveryCounts
) -> list[_Begun]:
    """PostgreSQL: the conditional update and the attempts' insert in one statement.

    ``WITH held AS (UPDATE … RETURNING) INSERT … SELECT FROM held``: only rows this batch
    still holds get an ``in_flight`` attempt, numbered by the update's ``attempts``.
    """
    attempts = DeliveryAttempt._meta.db_table  # noqa: SLF001
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH held AS ({_hold(sendable)} RETURNING id, attempts, channel)"  # noqa: S608
            f" INSERT INTO {attempts} (reminder_id, attempt, at, channel, outcome, error,"
            " provider_message_id, provider_status, provider_error_code)"
            " SELECT id, attempts, %s, channel, %s, '', '', '', '' FROM held"
            " RETURNING reminder_id, id, attempt",
            [*_hold_params(sendable, claim, now), now, AttemptOutcome.IN_FLIGHT],
        )
        held = {reminder_id: (pk, attempt) for reminder_id, pk, attempt in cursor.fetchall()}
    counts.lost += len(sendable) - len(held)
    begun = []
    for row in sendable:
        if row.pk in held:
            pk, row.attempts = held[row.pk]
            begun.append(_Begun(row=row, attempt=BegunAttempt(pk, row.attempts)))
    return begun


@transaction.atomic(savepoint=False)
def _finish_chunk(begun: list[_Begun], *, claim: str, counts: DeliveryCounts) -> None:
    """One transaction: accepted rows in two bulk updates, errors row by row."""
    _take_write_lock_on_sqlite()
    now = timezone.now()
    accepted = [item for item in begun if item.error is None]
    for item in begun:
        if item.error is not None:
            _finish_attempt(
                reminder_id=item.row.pk,
                claim=claim,
                attempt=item.attempt,
                provider_id="",
                error=item.error,
                counts=counts,
            )
    if not accepted:
        return
    failed = _record_accepted(accepted, now=now)
    # The provider may have said it failed before this write (a status callback, a bounce):
    # its verdict stands. A reconciled row's verdict may be on its interrupted attempt.
    reconciled = [
        (item.row.pk, item.attempt.pk, item.provider_id, True)
        for item in accepted
        if item.reconciled
    ]
    fail_on_verdict(failed + provider_verdicts(reconciled))
    counts.sent += len(accepted)
    logger.info("reminders sent count=%s", len(accepted))


def _record_accepted(accepted: list[_Begun], *, now: datetime) -> list[Verdict]:
    """The chunk's attempts, then its reminders, as sent (PostgreSQL: in one statement).

    Returns (reminder, channel, status, code) of the attempts a provider's webhook already
    said did not reach the patient (read back by the first statement's ``RETURNING``).

    ``WITH v(...) AS (VALUES ...) UPDATE ... FROM v`` reads the same on PostgreSQL and
    SQLite (3.33+). The reminders are written even if the claim was lost meanwhile: the
    provider accepted them (another worker reconciles before any re-send).
    """
    attempts = DeliveryAttempt._meta.db_table  # noqa: SLF001
    reminders = Reminder._meta.db_table  # noqa: SLF001
    columns = (
        [item.attempt.pk for item in accepted],
        [item.row.pk for item in accepted],
        [
            str(AttemptOutcome.RECONCILED if item.reconciled else AttemptOutcome.SENT)
            for item in accepted
        ],
        [item.provider_id for item in accepted],
    )
    if _arrays():
        # Four array parameters: the same statement text for every chunk (``_hold``).
        values: list[object] = list(columns)
        rows = "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])"
    else:
        values = [value for row in zip(*columns, strict=True) for value in row]
        rows = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(accepted))
    set_attempts = (
        f"UPDATE {attempts} SET finished_at = %s, outcome = v.outcome,"  # noqa: S608
        f" provider_message_id = v.pid FROM v WHERE {attempts}.id = v.attempt_id"
        f" RETURNING {attempts}.reminder_id, {attempts}.channel, {attempts}.provider_status,"
        f" {attempts}.provider_error_code"
    )
    set_reminders = (
        f"UPDATE {reminders} SET status = %s, sent_at = %s, provider_message_id = v.pid,"  # noqa: S608
        " last_error = '', status_reason = '', claim_token = '', lease_expires_at = NULL,"
        f" updated_at = %s FROM v WHERE {reminders}.id = v.reminder_id"
        f" AND {reminders}.status <> %s"
    )
    with_v = f"WITH v(attempt_id, reminder_id, outcome, pid) AS ({rows})"
    reminder_params = [ReminderStatus.SENT, now, now, ReminderStatus.SENT]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: both updates as data-modifying CTEs (different tables).
            cursor.execute(
                f"{with_v}, a AS ({set_attempts}), r AS ({set_reminders})"  # noqa: S608
                " SELECT reminder_id, channel, provider_status, provider_error_code FROM a",
                [*values, now, *reminder_params],
            )
            failed = [row for row in cursor.fetchall() if row[2] in FAILED_STATUSES]
        else:
            cursor.execute(f"{with_v} {set_attempts}", [*values, now])
            failed = [row for row in cursor.fetchall() if row[2] in FAILED_STATUSES]
            cursor.execute(f"{with_v} {set_reminders}", [*values, *reminder_params])
    return failed


# What the command and the tests call a batch's delivery (it lived in dispatch.py, which
# this module builds on: dispatch no longer imports it back).
deliver_batch = deliver_claimed
