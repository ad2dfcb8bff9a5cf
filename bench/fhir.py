"""``python -m bench.fhir``: FHIR search pages at scale, in process, as a care team's user.

Run against a generated database (``python -m bench.generate --count 100000`` into the one
``DATABASE_URL`` names, ``manage.py migrate`` first). Each search is asked ``--repeats``
times after ``--warmup`` (the first request of each pays one-off costs); p50 and p95 are of
the whole request through Django's test client (view, SQL, JSON, audit rows), and the
queries each page made, with ``$everything`` of the newest episode and of the team's episode
with the most reminders. Prints one JSON document and writes it to
``bench/results/fhir-<size>.json`` (``--out``: elsewhere), which ``make perf-doc`` renders.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def _searches(episode_id: int, patient_id: int, since: str, largest: int) -> list[str]:
    return [
        "Patient",
        f"Patient?_lastUpdated=gt{since}",
        "Patient?_sort=-_lastUpdated",
        "Patient?_revinclude=EpisodeOfCare:patient,Flag:patient",
        "EpisodeOfCare",
        f"EpisodeOfCare?_lastUpdated=gt{since}",
        "EpisodeOfCare?_sort=-_lastUpdated",
        "EpisodeOfCare?status=active&_include=EpisodeOfCare:patient,EpisodeOfCare:condition",
        "EpisodeOfCare?_revinclude=Flag:episode",
        "EpisodeOfCare?_summary=count",
        f"Condition?patient={patient_id}",
        "Condition?code=M54.17&_sort=-onset-date",
        f"Observation?episode={episode_id}",
        "Observation?code=radicular_pain",
        f"Observation?_lastUpdated=gt{since}",
        "CarePlan?status=active",
        "Flag?status=active&_include=Flag:patient",
        f"Flag?_lastUpdated=gt{since}",
        "Communication",
        f"Communication?_lastUpdated=gt{since}",
        f"EpisodeOfCare/{episode_id}/_history",
        f"EpisodeOfCare/{episode_id}/$everything",
        # The team's episode with the most reminders, deliveries, assessments and notes.
        f"EpisodeOfCare/{largest}/$everything",
    ]


def _largest_episode(team_id: int) -> tuple[int, int]:
    """The team's episode with the most reminder and delivery rows, and how many it has."""
    from django.db.models import Count

    from notifications.models import Reminder

    row = (
        Reminder.objects.filter(episode__care_team_id=team_id)
        .values("episode_id")
        .annotate(rows=Count("id") + Count("deliveries"))
        .order_by("-rows", "episode_id")
        .first()
    )
    return row["episode_id"], row["rows"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--large", type=int, default=1000, help="rows added for the large episode")
    parser.add_argument(
        "--out", type=Path, help="default bench/results/fhir-<size>.json (100k, 1m: the episodes)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.run import RESULTS, _commit, machine
    from episodes.models import Assessment, CareTeamMembership, Episode
    from workspace.models import OutreachKind, OutreachNote

    user_model = get_user_model()
    membership = CareTeamMembership.objects.filter(role="coordinator").order_by("id").first()
    if membership is None:
        sys.exit("no coordinator: generate data first (python -m bench.generate)")
    user = user_model.objects.get(pk=membership.user_id)
    episode = Episode.objects.filter(care_team_id=membership.team_id).order_by("-id").first()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    since = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    largest, largest_rows = _largest_episode(membership.team_id)
    when = timezone.now().isoformat(timespec="seconds")

    def measure(path: str) -> dict[str, Any]:
        url = f"/fhir/{path}"
        for _ in range(args.warmup):
            client.get(url)
        timings = []
        for _ in range(args.repeats):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url}: {response.status_code} {response.content[:300]!r}")
        body = response.json()
        timings.sort()
        row = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
            "queries": len(queries),
            "entries": len(body.get("entry", [])),
            "total": body.get("total"),
        }
        sys.stdout.write(f"{path}: {row}\n")
        return row

    results = {
        path: measure(path) for path in _searches(episode.pk, episode.patient_id, since, largest)
    }
    # An episode far larger than any generated: --large outreach notes and as many
    # assessments added to the newest episode in a transaction rolled back afterwards.
    with transaction.atomic():
        OutreachNote.objects.bulk_create(
            OutreachNote(episode=episode, kind=OutreachKind.CALL_MADE, note="bench", by=user)
            for _ in range(args.large)
        )
        Assessment.objects.bulk_create(
            Assessment(episode=episode, values={"radicular_pain": True}, recorded_by=user)
            for _ in range(args.large)
        )
        results[f"EpisodeOfCare/{episode.pk}/$everything (+{args.large} notes and assessments)"] = (
            measure(f"EpisodeOfCare/{episode.pk}/$everything")
        )
        transaction.set_rollback(True)
    episodes = Episode.objects.count()
    document = {
        "when": when,
        "commit": _commit(),
        "machine": machine(),
        "load_average": list(os.getloadavg()),
        "episodes": episodes,
        "team": membership.team_id,
        "team_episodes": Episode.objects.filter(care_team_id=membership.team_id).count(),
        "largest_episode_reminder_rows": largest_rows,
        "repeats": args.repeats,
        "searches": results,
    }
    size = "1m" if episodes >= 1_000_000 else f"{episodes // 1000}k"
    out = args.out or RESULTS / f"fhir-{size}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    sys.stdout.write(json.dumps(document) + "\n")


if __name__ == "__main__":
    main()
