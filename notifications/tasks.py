"""Celery tasks: thin, carrying reminder IDs and a claim token only, never patient details.

Beat runs ``dispatch_due_reminders`` every minute (config/settings/base.py); it claims due
rows and sends each batch's IDs to ``deliver_reminders``. No reminder is ever an ETA or
countdown task: the Reminder table is the schedule (docs/REMINDERS.md says why).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import drain_due, top_up

logger = logging.getLogger(__name__)


def _publish(task: Task, args: list[object], argsrepr: str | None = None) -> None:
    """Send a task to the reminders queue; an unreachable broker only delays reminders.

    ``argsrepr`` is what the message's headers, the worker's log and monitoring show of the
    arguments (https://docs.celeryq.dev/en/stable/userguide/tasks.html#hiding-sensitive-
    information-in-arguments). Without it Celery builds ``saferepr`` of a batch's hundred
    ids on every publish: 0.5 ms, a quarter of a claim's Python time.
    """
    try:
        task.apply_async(
            args=args, queue=settings.CAREFLOW_REMINDER_QUEUE, argsrepr=argsrepr, kwargsrepr="{}"
        )
    except (BrokerError, OSError):
        # The rows are the record: beat (or `dispatch_reminders`) picks them up, and a
        # claimed batch whose message was lost is reclaimed when its lease runs out.
        logger.warning("broker unreachable: %s not sent", task.name)


def enqueue_dispatch() -> None:
    """Ask for a dispatch cycle now (a red-flag alert must not wait for beat's tick)."""
    _publish(dispatch_due_reminders, [])


def _enqueue_delivery(reminder_ids: list[int], claim: str) -> None:
    # After the claiming transaction commits: a worker must find the rows `sending`.
    shown = f"[<{len(reminder_ids)} reminder ids>, {claim!r}]"
    transaction.on_commit(lambda: _publish(deliver_reminders, [reminder_ids, claim], shown))


def _deliver_alerts_here(reminder_ids: list[int], claim: str) -> None:
    """A batch of alerts is sent by the worker that claimed it, at once.

    Published, it would wait in the broker queue behind the routine batches already there
    (in a burst, up to ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows' worth).
    """
    transaction.on_commit(lambda: deliver_claimed(reminder_ids=reminder_ids, claim=claim))


@shared_task(name="notifications.tasks.dispatch_due_reminders", ignore_result=True)
def dispatch_due_reminders() -> None:
    drain_due(enqueue=_enqueue_delivery, enqueue_alerts=_deliver_alerts_here)


@shared_task(name="notifications.tasks.deliver_reminders", ignore_result=True)
def deliver_reminders(reminder_ids: list[int], claim: str) -> None:
    deliver_claimed(reminder_ids=reminder_ids, claim=claim)
    # The room this batch leaves is claimed at once: a burst is not left for the next tick.
    # An alert written meanwhile is claimed first and sent here, before that batch goes.
    top_up(enqueue=_enqueue_delivery, enqueue_alerts=_deliver_alerts_here)
