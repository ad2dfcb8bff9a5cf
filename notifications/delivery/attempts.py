"""One claimed row's attempt: may it go now, is the provider to be asked first, what failed.

A claimed row is ``sending`` under its batch's claim token and a lease
(``CAREFLOW_REMINDER_LEASE_SECONDS``). Every write a worker makes to it is conditional on
the batch still holding it (``held_by``): a row reclaimed after its lease ran out, or one
already done, matches nothing, so a late or redelivered task message never sends it a
second time.

What is decided row by row lives here; the statements that begin and finish a chunk's rows
together are ``batch.py``'s, and the claim (``claims.py``) reads the lease and the quiet
hours from here:

- whether the row still serves now (``held_back``: consent, opt-out and the episode, as
  ``services.reminder_why_not`` says; more than 7 days late; the patient's quiet hours),
  checked again at send time because any of it may have changed since the row was
  scheduled, and the row settled (``settle_held_back``) when it must not go;
- whether an earlier attempt is in doubt (a worker lost mid-send, an answer that never
  came): then the provider is asked first (``reconcile``), and a message it already took
  is recorded as sent, not sent again (docs/REMINDERS.md: the window that remains, per
  channel);
- a send's error: retried later with backoff and jitter (``retry_delay``), or failed
  (permanent, or the last allowed attempt);
- a provider's failure verdict (a status callback, a bounce) that arrived before the
  finish: it stands (``provider_verdicts``, ``fail_on_verdict``).
"""

from __future__ import annotations

import functools
import logging
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from careflow.schedule import in_quiet_hours, is_stale, out_of_quiet_hours
from infra.metrics import RECONCILIATIONS
from notifications.channels import channel_for
from notifications.channels.base import DeliveryChannel, PermanentSendError, TransientSendError
from notifications.delivery.messages import idempotency_key_for, render_message
from notifications.delivery.rows import BegunAttempt, DeliveryRow
from notifications.models import AttemptOutcome, Audience, DeliveryAttempt, Reminder, ReminderStatus
from notifications.providers.verdicts import FAILED_STATUSES, failure_reason
from notifications.services import reminder_why_not

logger = logging.getLogger(__name__)


@dataclass
class DeliveryCounts:
    """What a worker did with a batch's rows."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    skipped: int = 0
    lost: int = 0  # the claim was no longer this batch's (reclaimed, or already done)
    released: int = 0  # not begun: the batch ran out of time (scheduled again at once)

    def add(self, other: DeliveryCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def lease() -> timedelta:
    """How long a claim holds its rows before the reclaim may take them back."""
    return timedelta(seconds=settings.CAREFLOW_REMINDER_LEASE_SECONDS)


def held_by(claim: str, *, now: datetime | None = None) -> Case:
    """True of a row this batch still holds, as one expression: on purpose, not three.

    Held: ``sending``, under ``claim``, and (given ``now``) its lease not run out.

    Written as ``status = 'sending' AND …`` beside ``id IN (…)``, the status condition lets
    PostgreSQL read the rows through the partial index ``reminder_sending_lease`` instead of
    the primary key, and it does whenever its statistics say few rows are ``sending``
    (always, after an ``ANALYZE`` between bursts). That index holds an entry for every row
    that passed through ``sending`` since the last vacuum: at 1M, in a 50k burst, the chunk's
    begin read all of its 944 pages, 3.6 ms a chunk, against 0.8 ms by the primary key
    (docs/PERFORMANCE.md, "Dispatch at 1M"). Inside one CASE the conditions imply no
    index's predicate, so the ids are the only way in. Filter with ``pk``/``pk__in`` too.
    """
    held = Q(status=ReminderStatus.SENDING, claim_token=claim)
    if now is not None:
        held &= Q(lease_expires_at__gt=now)
    return Case(
        When(held, then=Value(value=True)),
        default=Value(value=False),
        output_field=BooleanField(),
    )


def quiet_until(audience: str, timezone_name: str, now: datetime) -> datetime | None:
    """The patient's next morning when ``now`` is in their quiet hours; None otherwise.

    Quiet hours are the patient's: care-team notices (and red-flag alerts) go at once.
    """
    if audience != Audience.PATIENT:
        return None
    zone = ZoneInfo(timezone_name)
    start, end = settings.CAREFLOW_QUIET_HOURS_START, settings.CAREFLOW_QUIET_HOURS_END
    if not in_quiet_hours(now, zone, start, end):
        return None
    return out_of_quiet_hours(now, zone, start, end)


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: base x 2^(attempt-1), capped, then 50-100 % of it.

    The jitter spreads retries of many rows that failed together (a provider outage), so
    they do not all hit the provider again in the same minute.
    """
    base = settings.CAREFLOW_REMINDER_RETRY_BASE_SECONDS
    ceiling = min(settings.CAREFLOW_REMINDER_RETRY_MAX_SECONDS, base * 2 ** max(attempt - 1, 0))
    # Not cryptographic: spreading retries needs no secret randomness.
    draw = (rng or random).uniform(0.5, 1.0)
    return timedelta(seconds=ceiling * draw)


# -- before the send: may the row go now ----------------------------------------------------


STALE_REASON = "more than 7 days late when it would go out"


class HeldBack(NamedTuple):
    """Why a row must not go now, and what it becomes instead."""

    status: str
    reason: str
    next_attempt_at: datetime | None  # when it is due again (quiet hours), or unchanged
    counter: str  # the ``DeliveryCounts`` field it adds to


def held_back(row: DeliveryRow, now: datetime) -> HeldBack | None:
    """Why the row must not be sent now, or None when it may."""
    why_not = reminder_why_not(row)
    if why_not:
        return HeldBack(ReminderStatus.CANCELLED, why_not, None, "cancelled")
    if is_stale(row.due_at, now):
        return HeldBack(ReminderStatus.SKIPPED, STALE_REASON, None, "skipped")
    morning = quiet_until(row.audience, row.episode.patient.timezone, now)
    if morning is not None:
        return HeldBack(ReminderStatus.SCHEDULED, "deferred: quiet hours", morning, "deferred")
    return None


def settle_held_back(
    row: DeliveryRow, why: HeldBack, *, claim: str, now: datetime, counts: DeliveryCounts
) -> None:
    """Write what a held-back row becomes, only while this batch still holds it."""
    fields = {
        "status": why.status,
        "status_reason": why.reason,
        "claim_token": "",
        "lease_expires_at": None,
        "updated_at": now,
    }
    if why.next_attempt_at is not None:
        fields["next_attempt_at"] = why.next_attempt_at
    if Reminder.objects.filter(held_by(claim, now=now), pk=row.pk).update(**fields):
        setattr(counts, why.counter, getattr(counts, why.counter) + 1)
    else:
        counts.lost += 1


# -- the send: ask the provider first when an earlier attempt is in doubt -------------------


# Earlier attempts whose message the provider may have taken: a worker lost mid-send, or
# an answer that never came (a timeout after the request went out is a transient error).
IN_DOUBT = (AttemptOutcome.INTERRUPTED, AttemptOutcome.TRANSIENT_ERROR)


def in_doubt_since(row: DeliveryRow) -> tuple[datetime | None, str]:
    """When the row's first attempt in doubt began, and a provider id if one is known.

    Such an attempt's message may have been taken by the provider; a status callback that
    named the reminder since then has written the provider's id on it.
    """
    if row.attempts <= 1:  # the first attempt has no earlier one to wonder about
        return None, ""
    in_doubt = list(
        DeliveryAttempt.objects.filter(reminder_id=row.pk, outcome__in=IN_DOUBT).values_list(
            "at", "provider_message_id"
        )
    )
    if not in_doubt:
        return None, ""
    known = next((provider_id for _, provider_id in in_doubt if provider_id), "")
    return min(at for at, _ in in_doubt), known


def reconcile(row: DeliveryRow, *, to: str, since: datetime, known: str = "") -> str | None:
    """The provider's id of a message it already took for this reminder, or None.

    One reminder at a time: a batch calls it per row whose earlier attempt is in doubt.
    Raises TransientSendError when the provider cannot be asked; the row is then retried
    later, never re-sent on a guess. The channel asks its provider
    (``DeliveryChannel.reconcile``): Twilio's message list, Postmark's outbound message
    search; over SMTP there is nobody to ask, so an interrupted email is re-sent (at least
    once).
    """
    if known:
        return known
    return channel_for(row.channel).reconcile(
        to=to, since=since, idempotency_key=idempotency_key_for(row)
    )


# Why a channel will not write to an address again (a hard-bounced email), empty if it
# will: the batch looks its recipients up at once (``batch.refused_lookup``).
Refused = Callable[[DeliveryChannel, str], str]


def reconcile_or_send(row: DeliveryRow, *, refused: Refused) -> tuple[str, bool]:
    """(provider id, found at the provider rather than sent now).

    The reminder's idempotency key rides along: the status callback URL, the email's
    Message-ID and metadata.
    """
    channel = channel_for(row.channel)
    message = render_message(row)
    if not message.to:
        raise PermanentSendError(channel.no_address)
    since, known = in_doubt_since(row)
    if since is not None:
        try:
            found = reconcile(row, to=message.to, since=since, known=known)
        except TransientSendError:
            RECONCILIATIONS.labels(row.channel, "error").inc()
            raise
        RECONCILIATIONS.labels(row.channel, "found" if found else "not_found").inc()
        if found:
            logger.warning("reminder reconciled reminder=%s: the provider had it", row.pk)
            return found, True
    reason = refused(channel, message.to)
    if reason:
        raise PermanentSendError(reason)
    return channel.send(message, idempotency_key=idempotency_key_for(row)), False


# -- after the send ------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def finish_failed(
    *,
    reminder_id: int,
    claim: str,
    attempt: BegunAttempt,
    error: TransientSendError | PermanentSendError,
    counts: DeliveryCounts,
) -> None:
    """Record a send that raised: retried with backoff, or failed (permanent, or the last).

    The attempt records the error whatever happened to the claim; the row changes only
    while this batch still holds it.
    """
    now = timezone.now()
    permanent = isinstance(error, PermanentSendError)
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=now,
        outcome=AttemptOutcome.PERMANENT_ERROR if permanent else AttemptOutcome.TRANSIENT_ERROR,
        error=str(error),
    )
    row = Reminder.objects.select_for_update().get(pk=reminder_id)
    if row.status != ReminderStatus.SENDING or row.claim_token != claim:
        counts.lost += 1
        return
    row.last_error = str(error)
    row.claim_token, row.lease_expires_at = "", None
    if not permanent and row.attempts < settings.CAREFLOW_REMINDER_MAX_ATTEMPTS:
        row.status = ReminderStatus.SCHEDULED
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.status_reason = f"retrying after attempt {row.attempts}"
        counts.retrying += 1
    else:
        row.status = ReminderStatus.FAILED
        row.status_reason = (
            "permanent error" if permanent else f"gave up after {row.attempts} attempts"
        )
        counts.failed += 1
    row.save()
    logger.warning(
        "reminder delivery error reminder=%s attempt=%s status=%s",
        reminder_id,
        attempt.attempt,
        row.status,
    )


Verdict = tuple[int, str, str, str]  # reminder, channel, provider status, provider code


def provider_verdicts(found: list[tuple[int, str]]) -> list[Verdict]:
    """The failures providers reported on messages reconciled rows found: one query.

    ``found``: (reminder, provider id) of each row found at the provider. The message was
    sent by an earlier attempt, interrupted or timed out: a verdict stored on that attempt
    (found by the provider's id) counts, as one stored on the attempt just finished does.
    """
    if not found:
        return []
    by_provider_id = functools.reduce(
        operator.or_,
        (Q(reminder_id=reminder_id, provider_message_id=pid) for reminder_id, pid in found),
    )
    return list(
        DeliveryAttempt.objects.filter(by_provider_id, provider_status__in=FAILED_STATUSES)
        .order_by("reminder_id", "attempt")
        .values_list("reminder_id", "channel", "provider_status", "provider_error_code")
    )


def fail_on_verdict(verdicts: list[Verdict]) -> None:
    """Fail the ``sent`` reminders a provider said did not reach the patient."""
    for reminder_id, channel, status, code in verdicts:
        reason = failure_reason(channel, status, code)
        Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENT).update(
            status=ReminderStatus.FAILED, status_reason=reason, last_error=reason
        )
