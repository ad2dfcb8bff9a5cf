"""``python manage.py generate_episodes --count 1000``: realistic demo or benchmark data.

Writes with PostgreSQL COPY (bench/datagen.py): a million episodes with their reminders in
minutes. Adds to what is there; users are ``bench-coordinator-<team>-<n>`` /
``bench-clinician-<team>-<n>`` with the password ``careflow-bench``.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bench.datagen import generate


class Command(BaseCommand):
    help = "Generate realistic episodes, patients, red flags and reminders (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=1000, help="episodes to add")
        parser.add_argument("--seed", type=int, default=7, help="random seed (repeatable data)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        summary = generate(
            options["count"],
            seed=options["seed"],
            progress=lambda line: self.stdout.write(f"  {line}"),
        )
        self.stdout.write(
            f"generated episodes={summary.episodes} reminders={summary.reminders}"
            f" red_flags={summary.red_flags} teams={summary.teams} users={summary.users}"
            f" in {time.monotonic() - started:.1f} s"
        )
