"""``python -m bench.generate --count 1000``: realistic demo or benchmark data.

Writes with PostgreSQL COPY (bench/datagen.py): a million episodes with their reminders in
minutes. Adds to what is there; users are ``bench-coordinator-<team>-<n>`` /
``bench-clinician-<team>-<n>`` with the password ``careflow-bench``. The database is the
one ``DATABASE_URL`` names, as for ``manage.py``. A module of bench, not a management
command: bench uses the product, never the reverse.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Generate realistic episodes, patients, red flags and reminders (PostgreSQL)."
    )
    parser.add_argument("--count", type=int, default=1000, help="episodes to add")
    parser.add_argument("--seed", type=int, default=7, help="random seed (repeatable data)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    import django

    django.setup()
    from bench.datagen import generate

    started = time.monotonic()
    summary = generate(
        args.count, seed=args.seed, progress=lambda line: sys.stdout.write(f"  {line}\n")
    )
    sys.stdout.write(
        f"generated episodes={summary.episodes} reminders={summary.reminders}"
        f" red_flags={summary.red_flags} teams={summary.teams} users={summary.users}"
        f" in {time.monotonic() - started:.1f} s\n"
    )


if __name__ == "__main__":
    main()
