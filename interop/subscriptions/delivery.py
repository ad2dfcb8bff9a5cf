"""One subscription's notifications: its handshake, then its events in order, heartbeats.

A subscription is delivered by one worker at a time (``lease_until``, taken by a
conditional UPDATE), its events strictly by number: the next pending one is sent, and
until it is (or is refused for good) none after it goes. A notification that fails in a
way worth retrying (no answer, a timeout, 5xx, 408, 429) leaves its event pending and the
whole subscription waiting ``retry_at`` (base x 2^(failures - 1) seconds, at most the cap;
``error`` from the third failure in a row, ``active`` again at the next success). A 4xx
otherwise is the endpoint refusing that notification: the event is ``failed`` and the next
one goes (the client sees the gap in ``eventsSinceSubscriptionStart``). Every attempt is
written on its event row: the record of what was sent, when, and what the endpoint said.

The subscriber's access is checked again before each event: a subscription's owner who has
left the event's care team is not told of it (the event is ``skipped``), whatever it was
allowed when it subscribed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.http import Http404
from django.utils import timezone

from episodes.selectors import care_team_has_member
from interop import resources as fhir
from interop.selectors import locate
from interop.subscriptions.endpoints import Answer, post
from interop.subscriptions.models import EventStatus, Status, Subscription, SubscriptionEvent
from interop.subscriptions.resources import Resource, notification_bundle

logger = logging.getLogger(__name__)

ERROR_AFTER: Final = 3  # failures in a row before the subscription reads ``error``
EVENTS_PER_RUN: Final = 50  # then the task asks for another run (other subscriptions' turn)
LEASE_MARGIN: Final = timedelta(seconds=30)
RETRY_NOW: Final = 0.0


def retry_delay(failures: int) -> float:
    base = settings.CAREFLOW_SUBSCRIPTION_RETRY_BASE_SECONDS
    return float(
        min(base * 2 ** max(failures - 1, 0), settings.CAREFLOW_SUBSCRIPTION_RETRY_CAP_SECONDS)
    )


def _claim(subscription_id: int) -> Subscription | None:
    """The subscription, leased to this worker, if it is live, free and not waiting."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    due = Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    live = Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return None
    lease = now + timedelta(seconds=subscription.timeout_seconds) + LEASE_MARGIN
    taken = (
        Subscription.objects.filter(free & due & live, pk=subscription_id)
        .exclude(status=Status.OFF)
        .update(lease_until=lease)
    )
    if not taken:
        return None
    subscription.refresh_from_db()
    return subscription


def _release(subscription: Subscription) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(lease_until=None)


def _send(subscription: Subscription, bundle: Resource) -> Answer:
    return post(
        subscription.endpoint,
        bundle,
        headers=subscription.headers,
        timeout=subscription.timeout_seconds,
    )


def _succeeded(subscription: Subscription) -> None:
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).exclude(status=Status.OFF).update(
        status=Status.ACTIVE, failures=0, retry_at=None, error="", last_sent_at=now, updated_at=now
    )
    subscription.refresh_from_db()


def _failed(subscription: Subscription, answer: Answer) -> float:
    """Wait before the next try; the delay in seconds."""
    failures = subscription.failures + 1
    delay = retry_delay(failures)
    now = timezone.now()
    changes = {
        "failures": failures,
        "retry_at": now + timedelta(seconds=delay),
        "error": answer.error,
        "updated_at": now,
    }
    if failures >= ERROR_AFTER:
        changes["status"] = Status.ERROR
    Subscription.objects.filter(pk=subscription.pk).exclude(status=Status.OFF).update(**changes)
    logger.warning(
        "subscription notification failed subscription=%s status=%s failures=%s retry_in=%s",
        subscription.pk,
        answer.status,
        failures,
        delay,
    )
    return delay


def _focus_resource(subscription: Subscription, event: SubscriptionEvent) -> Resource | None:
    """The focus as the owner may read it now; None if it is gone."""
    resource_type, _slash, resource_id = event.focus.partition("/")
    try:
        return fhir.versioned(locate(resource_type, resource_id).render())
    except Http404:
        logger.info(
            "subscription focus gone subscription=%s event=%s", subscription.pk, event.number
        )
        return None


def _may_hear(subscription: Subscription, event: SubscriptionEvent) -> bool:
    owner = subscription.owner
    return (
        owner.is_active
        and event.team_id in subscription.team_ids
        and care_team_has_member(team_id=event.team_id, user_id=owner.pk)
    )


def _handshake(subscription: Subscription) -> float | None:
    answer = _send(subscription, notification_bundle(subscription, "handshake"))
    if not answer.ok:
        return _failed(subscription, answer)
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(handshake_at=now)
    _succeeded(subscription)
    logger.info("subscription handshake subscription=%s", subscription.pk)
    return RETRY_NOW


def _heartbeat(subscription: Subscription) -> float | None:
    if not subscription.heartbeat_seconds or subscription.status == Status.ERROR:
        return None
    last = subscription.last_sent_at or subscription.handshake_at
    if (
        last is not None
        and last + timedelta(seconds=subscription.heartbeat_seconds) > timezone.now()
    ):
        return None
    answer = _send(subscription, notification_bundle(subscription, "heartbeat"))
    if not answer.ok:
        return _failed(subscription, answer)
    _succeeded(subscription)
    return None


def _next_event(subscription: Subscription) -> float | None:
    event = (
        SubscriptionEvent.objects.filter(subscription=subscription, status=EventStatus.PENDING)
        .order_by("number")
        .first()
    )
    if event is None:
        return _heartbeat(subscription)
    if not _may_hear(subscription, event):
        SubscriptionEvent.objects.filter(pk=event.pk).update(
            status=EventStatus.SKIPPED,
            last_error="the subscriber is no longer a member of the event's care team",
        )
        return RETRY_NOW
    resources = {}
    if subscription.content == "full-resource":
        resources[event.focus] = _focus_resource(subscription, event)
    bundle = notification_bundle(
        subscription,
        "event-notification",
        [(event.number, event.occurred_at, event.focus)],
        resources,
    )
    answer = _send(subscription, bundle)
    now = timezone.now()
    attempted = {"attempts": F("attempts") + 1, "last_error": answer.error}
    if answer.ok:
        SubscriptionEvent.objects.filter(pk=event.pk).update(
            status=EventStatus.SENT, sent_at=now, **attempted
        )
        _succeeded(subscription)
        logger.info(
            "subscription event sent subscription=%s event=%s", subscription.pk, event.number
        )
        return RETRY_NOW
    SubscriptionEvent.objects.filter(pk=event.pk).update(
        **attempted, **({} if answer.retry else {"status": EventStatus.FAILED})
    )
    if answer.retry:
        return _failed(subscription, answer)
    logger.warning(
        "subscription event refused subscription=%s event=%s status=%s",
        subscription.pk,
        event.number,
        answer.status,
    )
    return RETRY_NOW


def deliver(subscription_id: int) -> float | None:
    """Send what is due for one subscription, up to ``EVENTS_PER_RUN`` notifications.

    Returns when to run again: 0 (more is due now), a delay (a retry), or None (nothing, or
    another worker has it: that worker carries on).
    """
    for _ in range(EVENTS_PER_RUN):
        subscription = _claim(subscription_id)
        if subscription is None:
            return None
        try:
            if subscription.handshake_at is None:
                again = _handshake(subscription)
            else:
                again = _next_event(subscription)
        finally:
            _release(subscription)
        if again != RETRY_NOW:
            return again
    return RETRY_NOW


def due_subscriptions() -> list[int]:
    """Beat's sweep: live subscriptions with something to send now, none being delivered.

    Pending events or a handshake whose wait is over (a failure's retry, a lost message),
    and heartbeats that are due.
    """
    now = timezone.now()
    heartbeat_due = ExpressionWrapper(
        F("last_sent_at") + F("heartbeat_seconds") * timedelta(seconds=1),
        output_field=DateTimeField(),
    )
    candidates = (
        Subscription.objects.exclude(status=Status.OFF)
        .annotate(heartbeat_due=heartbeat_due)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .filter(
            Q(handshake_at__isnull=True)
            | Q(events__status=EventStatus.PENDING)
            | Q(heartbeat_due__lte=now)
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    return list(candidates)
