"""What notifications shows: reminders with the provider's word, and what it adds to episodes.

The clinical record sits below notifications and never imports it; what of ours it shows
(the ``delivery_failures`` and ``unread_replies`` queues, reminder, delivery-attempt,
patient-message and check-in entries on the timeline) is registered into its registries
by ``register`` at startup (``NotificationsConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from episodes.selectors import (
    OPEN_EPISODES,
    OPEN_STATES,
    Queue,
    TimelineEvent,
    queue_episodes,
    queue_register,
    timeline_source_register,
)
from episodes.selectors.prefetch import rows_of
from episodes.selectors.timeline import EPISODE
from notifications.models import (
    CheckIn,
    DeliveryAttempt,
    PatientMessage,
    PatientMessageKind,
    Reminder,
    ReminderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from episodes.models import Episode


def episode_reminders(episode: Episode) -> QuerySet[Any]:
    """The episode's reminders, by when they are due, with the provider's latest word.

    ``delivery_status``: what the provider last reported for the latest attempt (Twilio's
    status callbacks, the ESP's tracking events): ``delivered``, ``undelivered``,
    ``bounced``…; empty until it says anything.
    """
    latest = DeliveryAttempt.objects.filter(reminder_id=OuterRef("pk")).order_by("-attempt")
    return (
        Reminder.objects.filter(episode_id=episode.pk)
        .annotate(delivery_status=Subquery(latest.values("provider_status")[:1]))
        .order_by("due_at", "id")
    )


# -- the delivery_failures queue --------------------------------------------------------------


def _delivery_failures(_user: User, _now: datetime) -> tuple[str, tuple[Any, ...]]:
    # A reminder that could not go out matters while the episode is still being cared for.
    # "Has one" as a scalar subquery, not EXISTS: PostgreSQL turns an EXISTS into a merge
    # semi-join that reads the failed reminders' index from its start (the page's cursor
    # cannot reach it), so at 1M a page 5 000 rows deep read 63 000 entries (10-26 ms). As a
    # filter it reads the team's open episodes from the cursor (episode_team_open) and looks
    # up each one's failed reminders (reminder_delivery_problem): deep costs what first does.
    open_sql, open_params = OPEN_EPISODES
    return (
        (
            f"{open_sql} AND (SELECT r.id FROM notifications_reminder r"  # noqa: S608 - fixed text
            ' WHERE r.episode_id = "episodes_episode"."id" AND r.status IN (%s, %s) LIMIT 1)'
            " IS NOT NULL"
        ),
        (*open_params, ReminderStatus.FAILED.value, ReminderStatus.SKIPPED.value),
    )


# A row's ``failures``: the episode's failed and skipped reminders, latest first, each with
# which it was and why (read through reminder_delivery_problem, whose predicate the literal
# statuses match, as OLDEST_UNREAD_REPLY_SQL's do its index's).
DELIVERY_FAILURES_SQL = (
    "SELECT JSONB_AGG(JSONB_BUILD_OBJECT('id', r.id, 'milestone', r.milestone,"
    " 'audience', r.audience, 'channel', r.channel, 'status', r.status,"
    " 'status_reason', r.status_reason, 'last_error', LEFT(r.last_error, 300),"
    " 'updated_at', r.updated_at) ORDER BY r.id DESC)"
    " FROM notifications_reminder r"
    ' WHERE r.episode_id = "episodes_episode"."id"'
    " AND r.status IN ('failed', 'skipped')"
)


def queue_delivery_failures(*, user: User, now: datetime | None = None) -> QuerySet[Episode]:
    return queue_episodes("delivery_failures", user=user, now=now)


# -- the unread_replies queue -----------------------------------------------------------------


def _unread_replies(_user: User, _now: datetime) -> tuple[str, tuple[Any, ...]]:
    # Episodes with a reply nobody of the team has read, oldest first: the column is the
    # oldest unread reply's arrival (sms_inbound_record sets it, reply_mark_read moves it).
    # Open or not: a reply to a patient with no open episode lands on their latest one.
    return '"episodes_episode"."unread_reply_since" IS NOT NULL', ()


# A row's ``reply``: the episode's oldest unread reply, read through patient_message_unread
# (kind and read_at are literals, PatientMessageKind.REPLY's value, so a prepared
# statement's generic plan still matches the partial index's predicate).
OLDEST_UNREAD_REPLY_SQL = (
    "SELECT JSONB_BUILD_OBJECT('id', m.id, 'text', m.body, 'received_at', m.received_at)"
    " FROM notifications_patientmessage m"
    ' WHERE m.episode_id = "episodes_episode"."id"'
    " AND m.kind = 'reply' AND m.read_at IS NULL"
    " ORDER BY m.received_at, m.id LIMIT 1"
)


def unread_replies(episode_id: int) -> QuerySet[PatientMessage]:
    """An episode's unread replies, oldest first (the partial index patient_message_unread)."""
    return PatientMessage.objects.filter(
        episode_id=episode_id, kind=PatientMessageKind.REPLY, read_at__isnull=True
    ).order_by("received_at", "id")


def reply_get_for(episode: Episode, reply_id: int) -> PatientMessage:
    """A reply on an episode the user may see (``episode_get_for``); 404 for anything else."""
    reply = (
        PatientMessage.objects.filter(
            pk=reply_id, episode_id=episode.pk, kind=PatientMessageKind.REPLY
        )
        .select_related("read_by")
        .first()
    )
    if reply is None:
        raise Http404
    return reply


# -- timeline entries ---------------------------------------------------------------------------


def _reminder_events(episode: Episode) -> Iterable[TimelineEvent]:
    reminders = rows_of(Reminder, where=EPISODE, args=[episode.pk], order=("created_at", "id"))
    deliveries: dict[int, list[DeliveryAttempt]] = {}
    if reminders:
        for attempt in rows_of(
            DeliveryAttempt,
            where='t."reminder_id" = ANY(%s::bigint[])',
            args=[[r.pk for r in reminders]],
            order=("at", "id"),
        ):
            deliveries.setdefault(attempt.reminder_id, []).append(attempt)
    for reminder in reminders:
        about = {
            "reminder": reminder.pk,
            "milestone": reminder.milestone,
            "audience": reminder.audience,
            "channel": reminder.channel,
        }
        yield TimelineEvent(
            reminder.created_at,
            "reminder",
            reminder.pk,
            None,
            "system",
            {
                **about,
                "due_at": reminder.due_at.isoformat(),
                "status": reminder.status,
                "status_reason": reminder.status_reason,
            },
        )
        for attempt in deliveries.get(reminder.pk, ()):
            yield TimelineEvent(
                attempt.at,
                "delivery_attempt",
                attempt.pk,
                None,
                "system",
                {
                    **about,
                    "attempt": attempt.attempt,
                    "outcome": attempt.outcome,
                    "error": attempt.error,
                    # What the provider reported afterwards: delivered, undelivered, bounced…
                    "provider_status": attempt.provider_status,
                    "provider_error_code": attempt.provider_error_code,
                    "provider_status_at": (
                        attempt.provider_status_at.isoformat()
                        if attempt.provider_status_at
                        else None
                    ),
                },
            )


def _patient_message_events(episode: Episode) -> Iterable[TimelineEvent]:
    """SMS the patient sent: STOP / START (consent changed at once), HELP, and replies.

    A reply says whether it was read, when and by whom (a username); ``reply`` is its id
    (``POST /api/episodes/{id}/replies/{reply}/read/``).
    """
    messages = rows_of(
        PatientMessage,
        where=EPISODE,
        args=[episode.pk],
        related=("read_by",),
        order=("received_at", "id"),
    )
    for message in messages:
        data: dict[str, Any] = {"kind": message.kind, "body": message.body}
        if message.kind == PatientMessageKind.REPLY:
            data |= {
                "reply": message.pk,
                "read_at": message.read_at.isoformat() if message.read_at else None,
                "read_by": message.read_by.get_username() if message.read_by else None,
            }
        yield TimelineEvent(
            message.received_at, "patient_message", message.pk, None, "patient", data
        )


def _checkin_events(episode: Episode) -> Iterable[TimelineEvent]:
    for checkin in rows_of(CheckIn, where=EPISODE, args=[episode.pk], order=("submitted_at", "id")):
        yield TimelineEvent(
            checkin.submitted_at,
            "checkin",
            checkin.pk,
            None,
            "patient",
            {
                "reminder": checkin.reminder_id,
                "overall": checkin.overall,
                "disabling_pain": checkin.disabling_pain,
                "symptoms": checkin.symptoms,
                "corrections": checkin.corrections,
                "corrected_at": checkin.corrected_at.isoformat() if checkin.corrected_at else None,
            },
        )


def register() -> None:
    """Put notifications' queue and timeline entries into the clinical record's registries."""
    queue_register(
        Queue(
            "delivery_failures",
            _delivery_failures,
            ("id",),
            columns=(("failures", DELIVERY_FAILURES_SQL),),
            states=OPEN_STATES,
        ),
        after="surgical_review",
    )
    queue_register(
        Queue(
            "unread_replies",
            _unread_replies,
            ("unread_reply_since", "id"),
            columns=(("reply", OLDEST_UNREAD_REPLY_SQL),),
        ),
        after="delivery_failures",
    )
    timeline_source_register(_reminder_events)
    timeline_source_register(_patient_message_events)
    timeline_source_register(_checkin_events)
