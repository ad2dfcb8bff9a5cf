"""``python manage.py dispatch_reminders``: one dispatch cycle in the foreground.

Claims and sends in this process, no worker needed: for operators, and for sites that
drive delivery from cron instead of Celery beat.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications.delivery.batch import deliver_batch
from notifications.delivery.dispatch import DeliveryCounts, dispatch_cycle


class Command(BaseCommand):
    help = "Run one reminder dispatch cycle here (claim and send) and print what happened."

    def handle(self, *args: Any, **options: Any) -> None:
        delivered = DeliveryCounts()
        # Called once per batch, after its claim committed: each batch is sent while its
        # lease is fresh, before the next one is claimed.
        cycle = dispatch_cycle(
            enqueue=lambda ids, claim: delivered.add(deliver_batch(reminder_ids=ids, claim=claim))
        )
        self.stdout.write(
            f"sent={delivered.sent} deferred={cycle.deferred + delivered.deferred}"
            f" skipped={cycle.skipped + delivered.skipped}"
            f" failed={cycle.failed + delivered.failed}"
            f" retrying={delivered.retrying} cancelled={delivered.cancelled}"
            f" reclaimed={cycle.reclaimed}"
        )
