"""A dispatcher process for the fault tests: `manage.py dispatch_reminders`, in a loop.

``python -m tests.chaos.dispatch_loop --cycles N --pause S`` runs at most N cycles, S
seconds apart, in one process (as cron would run the command, only faster), and stops
early once three cycles in a row found nothing due and nothing in flight.
"""

from __future__ import annotations

import argparse
import io
import time

import django

IDLE_CYCLES_TO_STOP = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, required=True)
    parser.add_argument("--pause", type=float, required=True)
    options = parser.parse_args()
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415 - after setup()
    from django.db.models import Q  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from notifications.models import Reminder, ReminderStatus  # noqa: PLC0415

    idle = 0
    for cycle in range(options.cycles):
        out = io.StringIO()
        call_command("dispatch_reminders", stdout=out)
        print(f"cycle={cycle} {out.getvalue().strip()}", flush=True)  # noqa: T201 - its log
        pending = Reminder.objects.filter(
            Q(status=ReminderStatus.SENDING)
            | Q(status=ReminderStatus.SCHEDULED, next_attempt_at__lte=timezone.now())
        ).exists()
        idle = 0 if pending else idle + 1
        if idle >= IDLE_CYCLES_TO_STOP:
            break
        time.sleep(options.pause)


if __name__ == "__main__":
    main()
