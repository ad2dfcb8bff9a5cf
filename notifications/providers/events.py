"""What the providers tell us after a send: delivery status, patients' replies, bounces.

Every write is a service in a transaction; the webhook views (notifications/providers/webhooks.py)
check the provider's signature and hand the fields over. Nothing here logs a number, an
address or a message body.

- Twilio status callbacks (``queued`` … ``delivered`` / ``undelivered`` / ``failed``) are
  stored on the attempt; ``undelivered`` and ``failed`` fail the reminder with Twilio's
  error code, which puts the episode in ``delivery_failures``.
  https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
- Inbound SMS: Twilio's opt-out words withdraw SMS consent at once, its opt-in words
  restore it, its help words are Twilio's to answer, anything else is a reply the care team
  reads; each lands on the timeline of the patient whose reminder last went to that number.
  https://help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
  https://help.twilio.com/articles/31560110671259-How-to-Track-Opt-Out-Opt-In-and-Help-Messages-Using-the-OptOutType-Parameter
- Email tracking (Anymail's normalised events from the ESP): delivered is stored; a hard
  bounce or a complaint marks the address unusable and fails the reminder.
  https://anymail.dev/en/stable/sending/tracking/
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from careflow.states import TERMINAL_STATES, State
from episodes.models import Channel, Episode, Patient
from notifications.models import (
    Audience,
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

# Twilio's default keywords (the whole message, any case): opt-out, opt-in, and help, which
# Twilio answers itself.
# https://help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
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
    """STOP-like, START-like, HELP-like or a reply; Twilio's ``OptOutType`` wins when sent.

    Twilio sends ``OptOutType`` (``STOP``, ``START``, ``HELP``) with Advanced Opt-Out, whose
    keywords a Messaging Service may extend (other languages); without it the default
    keywords are matched on the whole message, in any case, as Twilio matches them.
    """
    kind = opt_out_type.strip().upper()
    if kind in _OPT_OUT_TYPES:
        return _OPT_OUT_TYPES[kind]
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return PatientMessageKind.OPT_OUT
    if word in OPT_IN_WORDS:
        return PatientMessageKind.OPT_IN
    if word in HELP_WORDS:
        return PatientMessageKind.HELP
    return PatientMessageKind.REPLY


_OPT_OUT_TYPES = {
    "STOP": PatientMessageKind.OPT_OUT,
    "START": PatientMessageKind.OPT_IN,
    "HELP": PatientMessageKind.HELP,
}
_CONSENT_KINDS = (PatientMessageKind.OPT_OUT, PatientMessageKind.OPT_IN)


@dataclass
class InboundResult:
    kind: str
    patients: int = 0  # patients it reached (their episodes, or their consent)
    episodes: int = 0  # episodes it was recorded on
    consent_changed: int = 0
    matched: bool = False  # False: it reached no care team (kept for operations)
    duplicate: bool = False


def _last_reminded(sharing: list[Patient]) -> Patient | None:
    """Of the patients sharing a number, the one whose SMS reminder last went to it.

    One query: the latest ``sent`` patient reminder by SMS among their episodes, found
    through each episode's reminders (``one_reminder_per_milestone``); a handful of rows.
    """
    if not sharing:
        return None
    patient_id = (
        Reminder.objects.filter(
            episode__patient_id__in=[p.pk for p in sharing],
            audience=Audience.PATIENT,
            channel=Channel.SMS,
            status=ReminderStatus.SENT,
        )
        .order_by(F("sent_at").desc(nulls_last=True), "-id")
        .values_list("episode__patient_id", flat=True)
        .first()
    )
    return next((p for p in sharing if p.pk == patient_id), None)


def _addressees(sharing: list[Patient]) -> tuple[int | None, list[Patient]]:
    """The care team an SMS from a shared number belongs to, and the patients it is about.

    The patient whose reminder last went to the number (PATHWAY.md "Patients also reply");
    when none ever did, every patient with the number if they are all of one care team;
    otherwise no team and nobody: a message must never reach another care team.
    """
    reminded = _last_reminded(sharing)
    if reminded is not None:
        return reminded.care_team_id, [reminded]
    teams = {p.care_team_id for p in sharing}
    if len(teams) == 1:
        return teams.pop(), sharing
    return None, []


def _restorable(patient_ids: list[int]) -> set[int]:
    """Of these patients, those whose SMS consent a STOP from their phone withdrew last.

    START restores what STOP withdrew; it never grants SMS consent a patient did not give.
    """
    restorable = set()
    for patient_id in patient_ids:
        last = (
            PatientMessage.objects.filter(episode__patient_id=patient_id, kind__in=_CONSENT_KINDS)
            .order_by("-received_at", "-id")
            .values_list("kind", flat=True)
            .first()
        )
        if last == PatientMessageKind.OPT_OUT:
            restorable.add(patient_id)
    return restorable


def _recorded_on(episodes: list[Episode]) -> list[Episode]:
    """Each patient's open episodes, or their latest one when none is open (still seen)."""
    by_patient: dict[int, list[Episode]] = {}
    for episode in episodes:
        by_patient.setdefault(episode.patient_id, []).append(episode)
    chosen = []
    for own in by_patient.values():
        open_ones = [e for e in own if State(e.state) not in TERMINAL_STATES]
        chosen.extend(open_ones or [max(own, key=lambda e: (e.created_at, e.pk))])
    return chosen


@transaction.atomic
def sms_inbound_record(
    *, token: str, message_sid: str, from_number: str, body: str, opt_out_type: str = ""
) -> InboundResult:
    """A patient's SMS, for the care team whose reminder last went to that number.

    STOP withdraws SMS consent at once and START restores it, for the patients with that
    number in that care team only; HELP is Twilio's to answer and only lands on the
    timeline; anything else is a reply that waits unread (``unread_replies``) until the
    team marks it read. Each is recorded on the open episodes of the patients it is about
    (their latest episode when none is open). An SMS no care team can be told apart for
    is kept with no episode, for operations, and reaches nobody.

    A change of consent re-plans the open episodes' scheduled reminders at once
    (``reminders_sync``): without SMS consent they go by email (a reminder for a patient
    without an address then fails and shows in ``delivery_failures``); a row already being
    sent is checked again by the worker just before the send (no consent: cancelled).
    """
    kind = classify_inbound(body, opt_out_type)
    result = InboundResult(kind=kind)
    # Twilio's idempotency token marks its own retries; the message SID marks the message,
    # so a genuine request replayed without the token (a STOP after a START) is one too.
    if not _first_time("twilio", token) or not _first_time("twilio-sms", message_sid):
        result.duplicate = True
        return result
    sharing = list(Patient.objects.filter(phone=from_number).order_by("pk"))
    team_id, patients = _addressees(sharing)
    if kind in _CONSENT_KINDS:
        # Consent is the phone's, within the team: every patient of it with that number.
        patients = [p for p in sharing if p.care_team_id == team_id]
    # Locked as every episode write locks (the episode with its patient), in id order, so
    # two SMS from one phone are recorded one after the other.
    episodes = list(
        Episode.objects.select_for_update()
        .select_related("patient")
        .filter(patient_id__in=[p.pk for p in patients])
        .order_by("pk")
    )
    without_episodes = {p.pk for p in patients} - {e.patient_id for e in episodes}
    if without_episodes:
        list(
            Patient.objects.select_for_update()
            .filter(pk__in=without_episodes)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    changed = _consent_change(kind, [p.pk for p in patients])
    result.consent_changed = len(changed)
    result.patients = len(patients)
    targets = _recorded_on(episodes)
    for episode in targets:
        if episode.patient_id in changed:
            episode.patient.sms_consent = kind == PatientMessageKind.OPT_IN
        message, created = PatientMessage.objects.get_or_create(
            episode=episode,
            provider_message_id=message_sid,
            defaults={"kind": kind, "body": body[:1600], "from_number": from_number},
        )
        if not created:
            continue
        result.episodes += 1
        if kind == PatientMessageKind.REPLY and episode.unread_reply_since is None:
            Episode.objects.filter(pk=episode.pk).update(unread_reply_since=message.received_at)
        if episode.patient_id in changed and State(episode.state) not in TERMINAL_STATES:
            reminders_sync(episode=episode)
    result.matched = bool(targets)
    if not targets:
        PatientMessage.objects.get_or_create(
            episode=None,
            provider_message_id=message_sid,
            defaults={"kind": kind, "body": body[:1600], "from_number": from_number},
        )
    logger.info(
        "inbound sms kind=%s matched=%s patients=%s episodes=%s consent_changed=%s",
        kind,
        result.matched,
        result.patients,
        result.episodes,
        result.consent_changed,
    )
    return result


def _consent_change(kind: str, patient_ids: list[int]) -> set[int]:
    """Withdraw (STOP) or restore (START) SMS consent; the patients whose consent changed."""
    if kind == PatientMessageKind.OPT_OUT:
        ids = set(
            Patient.objects.filter(pk__in=patient_ids, sms_consent=True).values_list(
                "pk", flat=True
            )
        )
    elif kind == PatientMessageKind.OPT_IN:
        withdrawn = Patient.objects.filter(pk__in=patient_ids, sms_consent=False)
        ids = _restorable(list(withdrawn.values_list("pk", flat=True)))
    else:
        return set()
    if ids:
        Patient.objects.filter(pk__in=ids).update(
            sms_consent=kind == PatientMessageKind.OPT_IN, updated_at=timezone.now()
        )
    return ids


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
    An event about no message of ours (no attempt found) changes nothing.
    The attempt is found by the ESP's message id, else by the reminder the message's
    metadata names (``reminder_key``): an event may come before the worker has written the
    ESP's id on the attempt.
    """
    if event_id and not _first_time("email", event_id):
        return "duplicate"
    attempt = _attempt_for(message_id, reminder_key) if message_id else None
    if attempt is None:
        # About no message we sent: it marks no address (anyone could claim a bounce).
        return "unknown"
    hard = (event_type == "bounced" and reject_reason == "bounced") or event_type in {
        "complained",
        "rejected",
    }
    if hard and recipient:
        UnusableEmail.objects.get_or_create(
            address=recipient.lower()[:254],
            defaults={"reason": f"{event_type}: {description}"[:200]},
        )
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
