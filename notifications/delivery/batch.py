"""A claimed batch's delivery: begin a chunk's attempts together, send, finish together.

The worker task's body (``deliver_claimed``) reads the batch's rows once
(``rows.delivery_rows``) and cuts them into chunks of one channel
(``DeliveryChannel.chunk_size``: ``CAREFLOW_REMINDER_CHUNK_SMS``, ``…_EMAIL``, ``…_SMTP``).
Per chunk:

1. **begin**, one transaction: rows that must not go now (cancelled, stale, quiet hours)
   are settled one by one (``attempts.held_back``, rare); the rest are counted (their
   lease renewed when less than ``RENEW_BELOW`` of it is left) by one conditional
   ``UPDATE … RETURNING`` (only rows still ``sending`` under this batch's claim and an
   unexpired lease come back) and their ``in_flight`` attempts inserted from what it
   returns, in one statement. Commit: every attempt row exists before its send.
2. **send** each row; a row whose earlier attempt is in doubt is first reconciled with the
   provider (``attempts.reconcile_or_send``, per row).
3. **finish**, one transaction: the accepted rows' attempts and reminders in one
   statement; errors row by row (``attempts.finish_failed``, rare).

Finishing a chunk and beginning the next are one transaction (``_step``). What a crash
costs: every row of the chunk being sent is left with an ``in_flight`` attempt, so the
reclaim marks the whole chunk ``interrupted`` and each of its rows is reconciled with the
provider before any re-send (docs/REMINDERS.md).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from infra.metrics import REMINDER_SEND_FAILURES, REMINDER_SENDS, error_code
from notifications.channels import channel_for, registered
from notifications.channels.base import DeliveryChannel, PermanentSendError, TransientSendError
from notifications.delivery.attempts import (
    DeliveryCounts,
    Refused,
    Verdict,
    fail_on_verdict,
    finish_failed,
    held_back,
    held_by,
    lease,
    provider_verdicts,
    reconcile_or_send,
    settle_held_back,
)
from notifications.delivery.messages import recipient_of, rendering_once
from notifications.delivery.rows import BegunAttempt, DeliveryRow, delivery_rows
from notifications.models import AttemptOutcome, DeliveryAttempt, Reminder, ReminderStatus
from notifications.providers.verdicts import FAILED_STATUSES

logger = logging.getLogger(__name__)

_REMINDERS = Reminder._meta.db_table  # noqa: SLF001
_ATTEMPTS = DeliveryAttempt._meta.db_table  # noqa: SLF001


@dataclass
class Begun:
    """A row whose attempt a chunk's begin wrote, and what its send came to."""

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

    One transaction between two chunks' sends: it finishes the chunk just sent and begins
    the next (every attempt row still commits before its send). What the batch reads once:
    its rows, the addresses each channel refuses, each template (``rendering_once``).
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
    refused = refused_lookup(list(rows.values()))
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
    *, finish: list[Begun], begin: list[DeliveryRow], claim: str, counts: DeliveryCounts
) -> list[Begun]:
    """One transaction: record the chunk just sent, begin the next one."""
    if finish:
        _finish_chunk(finish, claim=claim, counts=counts)
    return begin_chunk(begin, claim=claim, counts=counts) if begin else []


def _send_chunk(begun: list[Begun], *, refused: Refused) -> None:
    for item in begun:
        try:
            item.provider_id, item.reconciled = reconcile_or_send(item.row, refused=refused)
        except (TransientSendError, PermanentSendError) as exc:
            item.error = exc
        except Exception as exc:  # noqa: BLE001 - recorded on the row, not lost
            # Only the type, here and in the log: an unexpected exception's text (or
            # traceback locals in an error tracker) might quote the message or the address.
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


def refused_lookup(rows: list[DeliveryRow]) -> Refused:
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


# -- begin ----------------------------------------------------------------------------------


# A chunk's begin renews the lease when less than this share of it is left: at least
# 3/4 of the lease (225 s of 300) then covers the chunk's sends at their timeouts
# (20 x 10 s = 200 s; docs/REMINDERS.md).
RENEW_BELOW = 0.75

# The conditional update that begins rows: only those this batch still holds.
#
# The lease is renewed only when less than ``RENEW_BELOW`` of it is left: a chunk begun
# soon after its claim (the usual case) leaves ``lease_expires_at`` as it is, so the
# update changes no indexed column and PostgreSQL can make it a HOT update (no new entry in
# the table's indexes: ``reminder_sending_lease`` indexes the lease).
#
# The rows are found by id only: "still held" is one CASE (``attempts.held_by`` says why:
# as separate conditions PostgreSQL read the whole ``reminder_sending_lease`` index).
HOLD = (
    f"UPDATE {_REMINDERS} SET attempts = attempts + 1, lease_expires_at = CASE"  # noqa: S608
    " WHEN lease_expires_at < %s THEN %s ELSE lease_expires_at END,"
    " updated_at = %s WHERE id = ANY(%s) AND CASE WHEN status = %s"
    " AND claim_token = %s AND lease_expires_at > %s THEN TRUE ELSE FALSE END"
)


def hold_params(sendable: list[DeliveryRow], claim: str, now: datetime) -> list[object]:
    """``HOLD``'s parameters: the lease's renewal, the rows, the claim that must hold them."""
    renew_below = now + lease() * RENEW_BELOW
    ids = [row.pk for row in sendable]
    return [renew_below, now + lease(), now, ids, ReminderStatus.SENDING, claim, now]


# ``WITH held AS (UPDATE … RETURNING) INSERT … SELECT FROM held``: only rows this batch
# still holds get an ``in_flight`` attempt, numbered by the update's ``attempts``.
_BEGIN = (
    f"WITH held AS ({HOLD} RETURNING id, attempts, channel)"  # noqa: S608
    f" INSERT INTO {_ATTEMPTS} (reminder_id, attempt, at, channel, outcome, error,"
    " provider_message_id, provider_status, provider_error_code)"
    " SELECT id, attempts, %s, channel, %s, '', '', '', '' FROM held"
    " RETURNING reminder_id, id, attempt"
)


@transaction.atomic(savepoint=False)
def begin_chunk(rows: list[DeliveryRow], *, claim: str, counts: DeliveryCounts) -> list[Begun]:
    """One transaction: settle rows that must not go now, begin the rest together.

    Checked again now, not only when scheduled: consent, opt-out or the episode may have
    changed since, and the batch may have waited in the queue into the evening.
    """
    now = timezone.now()
    sendable: list[DeliveryRow] = []
    for row in rows:
        why = held_back(row, now)
        if why is None:
            sendable.append(row)
        else:
            settle_held_back(row, why, claim=claim, now=now, counts=counts)
    if not sendable:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_BEGIN, [*hold_params(sendable, claim, now), now, AttemptOutcome.IN_FLIGHT])
        held = {reminder_id: (pk, attempt) for reminder_id, pk, attempt in cursor.fetchall()}
    counts.lost += len(sendable) - len(held)
    begun = []
    for row in sendable:
        if row.pk in held:
            pk, row.attempts = held[row.pk]
            begun.append(Begun(row=row, attempt=BegunAttempt(pk, row.attempts)))
    return begun


# -- finish ---------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def _finish_chunk(begun: list[Begun], *, claim: str, counts: DeliveryCounts) -> None:
    """One transaction: accepted rows in one statement, errors row by row."""
    now = timezone.now()
    accepted = [item for item in begun if item.error is None]
    for item in begun:
        if item.error is not None:
            permanent = isinstance(item.error, PermanentSendError)
            REMINDER_SENDS.labels(
                item.row.channel, "permanent_error" if permanent else "transient_error"
            ).inc()
            REMINDER_SEND_FAILURES.labels(
                item.row.channel,
                "permanent" if permanent else "transient",
                error_code(str(item.error)),
            ).inc()
            finish_failed(
                reminder_id=item.row.pk,
                claim=claim,
                attempt=item.attempt,
                error=item.error,
                counts=counts,
            )
    if not accepted:
        return
    failed = _record_accepted(accepted, now=now)
    # The provider may have said it failed before this write (a status callback, a bounce):
    # its verdict stands. A reconciled row's verdict may be on its interrupted attempt.
    found = [(item.row.pk, item.provider_id) for item in accepted if item.reconciled]
    fail_on_verdict(failed + provider_verdicts(found))
    counts.sent += len(accepted)
    for item in accepted:
        REMINDER_SENDS.labels(item.row.channel, "reconciled" if item.reconciled else "sent").inc()
    logger.info("reminders sent count=%s", len(accepted))


# The chunk's attempts, then its reminders, as sent: both updates as data-modifying CTEs
# (different tables) in one statement, the chunk's values as four array parameters (the
# same statement text for every chunk). The reminders are written even if the claim was
# lost meanwhile: the provider accepted them (another worker reconciles before any
# re-send). The attempts' ``RETURNING`` reads back a verdict a provider's webhook stored
# before this finish.
_RECORD_ACCEPTED = (
    "WITH v(attempt_id, reminder_id, outcome, pid) AS"  # noqa: S608
    " (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])),"
    f" a AS (UPDATE {_ATTEMPTS} SET finished_at = %s, outcome = v.outcome,"
    f" provider_message_id = v.pid FROM v WHERE {_ATTEMPTS}.id = v.attempt_id"
    f" RETURNING {_ATTEMPTS}.reminder_id, {_ATTEMPTS}.channel, {_ATTEMPTS}.provider_status,"
    f" {_ATTEMPTS}.provider_error_code),"
    f" r AS (UPDATE {_REMINDERS} SET status = %s, sent_at = %s, provider_message_id = v.pid,"
    " last_error = '', status_reason = '', claim_token = '', lease_expires_at = NULL,"
    f" updated_at = %s FROM v WHERE {_REMINDERS}.id = v.reminder_id"
    f" AND {_REMINDERS}.status <> %s)"
    " SELECT reminder_id, channel, provider_status, provider_error_code FROM a"
)


def _record_accepted(accepted: list[Begun], *, now: datetime) -> list[Verdict]:
    """Record the chunk's accepted rows as sent; the failure verdicts already stored on them.

    Returns (reminder, channel, status, code) of the attempts a provider's webhook already
    said did not reach the patient.
    """
    outcomes = [
        str(AttemptOutcome.RECONCILED if item.reconciled else AttemptOutcome.SENT)
        for item in accepted
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_ACCEPTED,
            [
                [item.attempt.pk for item in accepted],
                [item.row.pk for item in accepted],
                outcomes,
                [item.provider_id for item in accepted],
                now,
                ReminderStatus.SENT,
                now,
                now,
                ReminderStatus.SENT,
            ],
        )
        return [
            (reminder_id, channel, status, code)
            for reminder_id, channel, status, code in cursor.fetchall()
            if status in FAILED_STATUSES
        ]
