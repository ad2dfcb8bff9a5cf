"""``python manage.py dispatch_reminders``: beat's dispatch, run here in the foreground.

What Celery beat runs every minute (``claims.drain_due``: reclaim, then claim batches up
to ``CAREFLOW_DISPATCH_MAX_IN_FLIGHT`` rows, alerts first), with each batch sent in this
process as soon as its claim commits, no worker needed: for operators, and for sites that
drive delivery from cron instead of Celery beat. A backlog beyond the ceiling waits for
the next run (no worker is there to claim the next batch as it finishes one).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications.delivery.attempts import DeliveryCounts
from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import drain_due


class Command(BaseCommand):
    help = "Run one reminder dispatch cycle here (claim and send) and print what happened."

    def handle(self, *args: Any, **options: Any) -> None:
        delivered = DeliveryCounts()

        def deliver_here(ids: list[int], claim: str) -> None:
            # Called once per batch, after its claim committed: each batch is sent while
            # its lease is fresh, before the next one is claimed.
            delivered.add(deliver_claimed(reminder_ids=ids, claim=claim))

        cycle = drain_due(enqueue=deliver_here)
        self.stdout.write(
            f"sent={delivered.sent} deferred={cycle.deferred + delivered.deferred}"
            f" skipped={cycle.skipped + delivered.skipped}"
            f" failed={cycle.failed + delivered.failed}"
            f" retrying={delivered.retrying} cancelled={delivered.cancelled}"
            f" reclaimed={cycle.reclaimed}"
        )
