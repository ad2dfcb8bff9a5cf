"""The adherence report's monthly rollups: refreshed by beat, read beside the live rows.

A report over ``from``..``to`` adds up the stored tallies of the whole enrolment months in
its range whose rollup is current (no change row of that team and month visible) and the
tally of every other episode in range, read live: the partial months at either end, the
current month and any month written since its last refresh. One tally, one set of
figures (``episodes.reports.figures_from_tally``): the figures are those of the live
computation, to the value, because they are computed from the same counts (decision 0020).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

import careflow
from careflow.adherence import Tally
from episodes import reports as episode_reports
from episodes.models import Episode
from episodes.reports import Figures, Scope, episode_counts, figures_from_tally, user_names
from notifications import reports as notification_reports
from notifications.reports import reached_counts, reached_figures
from reports.models import Rollup, RollupChange

if TYPE_CHECKING:
    from django.db.models import QuerySet

# One refresh at a time (pg_try_advisory_lock's key: "rollups" in ASCII): a second one,
# started while the first still runs, has nothing to add and would conflict on its rows.
REFRESH_LOCK: Final = 0x726F6C6C757073


def _code_version() -> str:
    """A digest of the code a tally is counted with: the guideline and the report's reads.

    A deploy that changes how any figure is counted (a rule, a deadline, a new count) makes
    every stored tally another version's: the report reads those months live until the
    refresh has counted them again with the new code.
    """
    files = sorted(Path(careflow.__file__).parent.rglob("*.py"))
    files += [Path(m.__file__) for m in (episode_reports, notification_reports)]
    files.append(Path(__file__))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


CODE_VERSION: Final = _code_version()
# A run starts no month after this: well inside CELERY_TASK_SOFT_TIME_LIMIT (240 s).
REFRESH_SECONDS: Final = 120.0


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(start: date, end: date) -> list[date]:
    """The first days of the months lying wholly within ``start``..``end``."""
    month = start if start.day == 1 else next_month(start)
    out = []
    while next_month(month) - timedelta(days=1) <= end:
        out.append(month)
        month = next_month(month)
    return out


def first_open_month(today: date) -> date:
    """The earliest month a patient somewhere may still be enrolled in today.

    Patients' local dates run up to a day behind the server's; a month is rolled up once
    it has ended for all of them. (Only a matter of work saved: a later enrolment into a
    rolled-up month outdates its rollup like any other write.)
    """
    return month_start(today - timedelta(days=1))


def month_tally(team_id: int, month: date) -> Figures:
    """One team's episodes enrolled in one month, read live into a tally."""
    out = Figures()
    cohort = Scope((team_id,), month, next_month(month) - timedelta(days=1)).cohort()
    episode_counts(cohort, out)
    reached_counts(cohort, out)
    return out


@dataclass
class Refreshed:
    rolled_up: list[tuple[int, date]] = field(default_factory=list)
    left: int = 0  # months still to roll up when the run's time was up
    skipped: bool = False


def _roll_up(team_id: int, month: date, now: datetime) -> None:
    """Recompute one month and delete the change rows it now holds, in one snapshot.

    REPEATABLE READ: every read sees the same snapshot, and the DELETE removes exactly the
    change rows that snapshot saw. A write committed later, or still running, has its own
    change row, invisible here, which stays: the rollup is not used until the next refresh.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # inside a caller's transaction (a test's), that one's snapshot holds
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        figures = month_tally(team_id, month)
        RollupChange.objects.filter(care_team_id=team_id, month=month).delete()
        Rollup.objects.update_or_create(
            care_team_id=team_id,
            month=month,
            defaults={
                "tally": figures.tally.to_json(),
                "episodes": figures.tally.total("episodes"),
                "computed_at": now,
                "version": CODE_VERSION,
            },
        )


def rollups_refresh(
    *, today: date | None = None, seconds: float | None = REFRESH_SECONDS
) -> Refreshed:
    """Roll up each closed month written since its rollup or counted by other code, newest first.

    Each month commits on its own; after ``seconds`` no further month is started and the
    next run takes up the rest (a first refresh at 1M is minutes of work, more than a
    task's time limit). Open months keep one change row each (the oldest), so each is
    rolled up once closed however many writes it has had meanwhile.
    """
    today = today or timezone.localdate()
    started = time.monotonic()
    done = Refreshed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK])
        if not cursor.fetchone()[0]:
            done.skipped = True
            return done
    try:
        first_open = first_open_month(today)
        open_months = RollupChange.objects.filter(month__gte=first_open)
        oldest = (
            open_months.values("care_team_id", "month").annotate(first=Min("id")).values("first")
        )
        open_months.exclude(id__in=oldest).delete()
        written = set(
            RollupChange.objects.filter(month__lt=first_open)
            .values_list("care_team_id", "month")
            .distinct()
        )
        recount = set(
            Rollup.objects.exclude(version=CODE_VERSION).values_list("care_team_id", "month")
        )
        pending = sorted(written | recount, key=lambda key: (-key[1].toordinal(), key[0]))
        for team_id, month in pending:
            if seconds is not None and time.monotonic() - started > seconds:
                done.left = len(pending) - len(done.rolled_up)
                break
            _roll_up(team_id, month, timezone.now())
            done.rolled_up.append((team_id, month))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])
    return done


def current_rollups(scope: Scope) -> list[tuple[int, date, dict[str, Any]]]:
    """The whole months in range whose rollup is current: this code's, no write since visible."""
    months = whole_months(scope.start, scope.end)
    if not months:
        return []
    changed = RollupChange.objects.filter(
        care_team_id=OuterRef("care_team_id"), month=OuterRef("month")
    )
    return list(
        Rollup.objects.filter(
            care_team_id__in=scope.team_ids,
            month__gte=months[0],
            month__lte=months[-1],
            version=CODE_VERSION,
        )
        .exclude(Exists(changed))
        .values_list("care_team_id", "month", "tally")
    )


def _rest(scope: Scope, covered: dict[int, set[date]]) -> QuerySet[Episode]:
    """The episodes in range outside the covered months: each team's gaps as date ranges."""
    where = Q()
    for team_id in scope.team_ids:
        day = scope.start
        for month in sorted(covered.get(team_id, ())):
            if day < month:
                where |= Q(care_team_id=team_id, enrolled_on__gte=day, enrolled_on__lt=month)
            day = next_month(month)
        if day <= scope.end:
            where |= Q(care_team_id=team_id, enrolled_on__gte=day, enrolled_on__lte=scope.end)
    return Episode.objects.filter(where) if where else Episode.objects.none()


def rolled_up_figures(
    scope: Scope, *, today: date | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The report's figures from the current rollups and the rest of the range read live.

    One query for the rollups, the live reads of the rest (none when the rollups cover the
    whole range) and, when a stored month names a user the live rows do not, one for
    their names.
    """
    now = now or timezone.now()
    today = today or timezone.localdate()
    out = Figures()
    covered: dict[int, set[date]] = {}
    for team_id, month, tally in current_rollups(scope):
        out.tally.merge(Tally.from_json(tally))
        covered.setdefault(team_id, set()).add(month)
    rest = _rest(scope, covered)
    episode_counts(rest, out, now)
    reached_counts(rest, out)
    ruled_out_by = {user_id for (user_id,) in out.tally.get("red_flags.ruled_out_by")}
    usernames = user_names(ruled_out_by, out.usernames)
    data = figures_from_tally(out.tally, usernames, start=scope.start, today=today, now=now)
    data["patients_reached"] = reached_figures(out.tally)
    return data
