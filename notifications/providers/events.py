"""What the providers tell us after a send: delivery status, patients' replies, bounces.

Every write is a service in a transaction; the webhook views (notifications/providers/webhooks.py)
check the provider's signature and hand the fields over. Nothing here logs a number, an
address or a message body.

- Twilio status callbacks (``queued`` … ``delivered`` / ``undelivered`` / ``failed``) are
  stored on the attempt; ``undelivered`` and ``failed`` fail the reminder with Twilio's
  error code, which puts the episode in ``delivery_failures``.
  https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
- Inbound SMS: Twilio's opt-out words withdraw SMS consent at once, its opt-in words
  restore it, anything else is a reply for the care team; each lands on the timeline.
  https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out
- Email tracking (Anymail's normalised events from the ESP): delivered is stored; a hard
  bounce or a complaint marks the address unusable and fails the reminder.
  https://anymail.dev/en/stable/sending/tracking/
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from careflow.states import NON_TERMINAL_STATES
from episodes.models import Episode, Patient
from notifications.models import (
    DeliveryAttempt,
    PatientMessage,
    PatientMessageKind,
    Reminder,
    ReminderStatus,
    UnusableEmail,
    WebhookReceipt,
)
from notifications.providers.verdicts import FAILED_STATUSES, failure_reason
from notifications.services import reminders_sync

logger = logging.getLogger(__name__)

# Twilio's default opt-out and opt-in keywords (the whole message, any case).
# https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
# Status order: a late callback for an earlier status never overwrites a later one.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
}
SMS_STATUSES = frozenset(_RANK)


def _first_time(provider: str, token: str) -> bool:
    """Record a webhook's idempotency token; False when it was seen before (a retry)."""
    if not token:
        return True
    _, created = WebhookReceipt.objects.get_or_create(provider=provider, token=token[:200])
    return created


def _attempt_for(provider_id: str, reminder_key: str) -> DeliveryAttempt | None:
    """The attempt a provider event is about: by the provider's id, else by the reminder.

    A status callback that names the reminder of an attempt a crash left without the
    provider's id writes the id there: the dispatcher's reconciliation then finds it.
    """
    attempt = (
        DeliveryAttempt.objects.select_for_update()
        .filter(provider_message_id=provider_id)
        .order_by("-attempt")
        .first()
    )
    if attempt is not None or not reminder_key.startswith("reminder-"):
        return attempt
    try:
        reminder_id = int(reminder_key.removeprefix("reminder-"))
    except ValueError:
        return None
    attempt = (
        DeliveryAttempt.objects.select_for_update()
        .filter(reminder_id=reminder_id, provider_message_id="")
        .order_by("-attempt")
        .first()
    )
    if attempt is not None:
        attempt.provider_message_id = provider_id
    return attempt


def _fail_reminder(attempt: DeliveryAttempt) -> None:
    """The patient did not get it: a ``sent`` reminder fails (``delivery_failures``).

    One still ``sending`` (the provider called back before the worker recorded the attempt
    as finished) is failed by that finish, which reads the verdict stored on the attempt
    (``providers.verdicts``).
    """
    reason = failure_reason(attempt.channel, attempt.provider_status, attempt.provider_error_code)
    Reminder.objects.filter(pk=attempt.reminder_id, status=ReminderStatus.SENT).update(
        status=ReminderStatus.FAILED,
        status_reason=reason[:200],
        last_error=reason,
        updated_at=timezone.now(),
    )


@transaction.atomic
def sms_status_record(
    *, token: str, message_sid: str, status: str, error_code: str, reminder_key: str
) -> str:
    """Store one Twilio status callback; what happened: duplicate, unknown, stale, stored."""
    if not _first_time("twilio", token):
        return "duplicate"
    attempt = _attempt_for(message_sid, reminder_key)
    if attempt is None:
        return "unknown"
    if _RANK.get(attempt.provider_status, -1) > _RANK[status]:
        attempt.save(update_fields=["provider_message_id"])
        return "stale"
    attempt.provider_status = status
    attempt.provider_error_code = error_code
    attempt.provider_status_at = timezone.now()
    attempt.save(
        update_fields=[
            "provider_message_id",
            "provider_status",
            "provider_error_code",
            "provider_status_at",
        ]
    )
    if status in FAILED_STATUSES:
        _fail_reminder(attempt)
    logger.info(
        "sms status reminder=%s attempt=%s status=%s", attempt.reminder_id, attempt.attempt, status
    )
    return "stored"


def classify_inbound(body: str, opt_out_type: str = "") -> str:
    """STOP-like, START-like or a reply; Twilio's own ``OptOutType`` wins when it sends one."""
    kind = opt_out_type.strip().upper()
    if kind == "STOP":
        return PatientMessageKind.OPT_OUT
    if kind == "START":
        return PatientMessageKind.OPT_IN
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return PatientMessageKind.OPT_OUT
    if word in OPT_IN_WORDS:
        return PatientMessageKind.OPT_IN
    return PatientMessageKind.REPLY


@dataclass
class InboundResult:
    kind: str
    patients: int = 0
    episodes: int = 0
    duplicate: bool = False


@transaction.atomic
def sms_inbound_record(
    *, token: str, message_sid: str, from_number: str, body: str, opt_out_type: str = ""
) -> InboundResult:
    """A patient's SMS: consent withdrawn or restored at once, or a reply on the timeline.

    Every patient with that number is concerned (a shared family phone). Their open
    episodes' scheduled reminders are re-planned at once (``reminders_sync``): without SMS
    consent they go by email (a reminder for a patient without an address then fails and
    shows in ``delivery_failures``); a row already being sent is checked again by the
    worker just before the send (no consent: cancelled).
    """
    kind = classify_inbound(body, opt_out_type)
    result = InboundResult(kind=kind)
    if not _first_time("twilio", token):
        result.duplicate = True
        return result
    patients = list(Patient.objects.select_for_update().filter(phone=from_number))
    for patient in patients:
        if kind != PatientMessageKind.REPLY:
            patient.sms_consent = kind == PatientMessageKind.OPT_IN
            patient.save(update_fields=["sms_consent", "updated_at"])
        result.patients += 1
        episodes = Episode.objects.filter(
            patient=patient, state__in=[s.value for s in NON_TERMINAL_STATES]
        ).select_related("patient")
        for episode in episodes:
            _, created = PatientMessage.objects.get_or_create(
                episode=episode,
                provider_message_id=message_sid,
                defaults={"kind": kind, "body": body[:1600]},
            )
            if created:
                result.episodes += 1
            if kind != PatientMessageKind.REPLY:
                reminders_sync(episode=episode)
    logger.info(
        "inbound sms kind=%s patients=%s episodes=%s", kind, result.patients, result.episodes
    )
    return result


@transaction.atomic
def email_event_record(
    *,
    event_id: str,
    message_id: str,
    event_type: str,
    reject_reason: str,
    recipient: str,
    description: str,
    at: datetime | None,
    reminder_key: str = "",
) -> str:
    """Store one ESP tracking event (Anymail's normalised names) on the attempt it is about.

    ``bounced`` with reject reason ``bounced`` (a hard bounce) or ``complained`` marks the
    address unusable and fails the reminder; ``deferred`` and soft bounces are stored only.
    The attempt is found by the ESP's message id, else by the reminder the message's
    metadata names (``reminder_key``): an event may come before the worker has written the
    ESP's id on the attempt.
    """
    if event_id and not _first_time("email", event_id):
        return "duplicate"
    attempt = _attempt_for(message_id, reminder_key) if message_id else None
    hard = (event_type == "bounced" and reject_reason == "bounced") or event_type in {
        "complained",
        "rejected",
    }
    if hard and recipient:
        UnusableEmail.objects.get_or_create(
            address=recipient.lower()[:254],
            defaults={"reason": f"{event_type}: {description}"[:200]},
        )
    if attempt is None:
        return "unknown"
    status = "bounced" if hard and event_type != "complained" else event_type
    attempt.provider_status = status[:20]
    attempt.provider_error_code = (reject_reason or "")[:40]
    attempt.provider_status_at = at or timezone.now()
    attempt.save(
        update_fields=[
            "provider_message_id",
            "provider_status",
            "provider_error_code",
            "provider_status_at",
        ]
    )
    if hard:
        _fail_reminder(attempt)
    logger.info("email event reminder=%s status=%s", attempt.reminder_id, status)
    return "stored"


def email_unusable(address: str) -> bool:
    return bool(address) and UnusableEmail.objects.filter(address=address.lower()).exists()
