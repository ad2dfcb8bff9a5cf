"""Celery tasks: thin, carrying a subscription's id only; the rows are the schedule.

``deliver_subscription`` is asked for when an event commits (and after a short retry
delay); beat's ``sweep_subscriptions`` finds whatever is due besides (a longer retry, a
message lost with the broker, heartbeats), so a lost task only delays a notification.
"""

from __future__ import annotations

import logging
from typing import Final

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError as BrokerError

from interop.subscriptions.delivery import deliver, due_subscriptions

logger = logging.getLogger(__name__)

# A retry further off than this waits for beat's sweep rather than a countdown message
# (Redis redelivers unacknowledged countdown messages after its visibility timeout).
COUNTDOWN_LIMIT_SECONDS: Final = 60


def enqueue_delivery(subscription_id: int, countdown: float = 0) -> None:
    try:
        deliver_subscription.apply_async(
            args=[subscription_id],
            queue=settings.CAREFLOW_SUBSCRIPTION_QUEUE,
            countdown=countdown or None,
        )
    except (BrokerError, OSError):
        # The event rows are the record: beat's sweep sends them when the broker is back.
        logger.warning("broker unreachable: delivery of subscription %s not asked", subscription_id)


@shared_task(name="interop.subscriptions.tasks.deliver_subscription", ignore_result=True)
def deliver_subscription(subscription_id: int) -> None:
    again = deliver(subscription_id)
    if again is not None and again <= COUNTDOWN_LIMIT_SECONDS:
        enqueue_delivery(subscription_id, countdown=again)


@shared_task(name="interop.subscriptions.tasks.sweep_subscriptions", ignore_result=True)
def sweep_subscriptions() -> None:
    for subscription_id in due_subscriptions():
        enqueue_delivery(subscription_id)
