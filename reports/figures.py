"""One adherence report for a user, a care team (or all theirs) and a date range.

Above ``episodes`` and ``notifications`` (careflow <- episodes <- notifications <- reports
<- workspace): it scopes the request to the user's care teams and joins both sets of
figures. Bad input is a ``ReportRequestError`` (400); a team the user may not read, a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from django.http import Http404
from django.utils import timezone

from careflow.rules import PATHWAY_VERSION
from episodes.reports import Figures, Scope, episode_figures
from episodes.selectors import care_teams_for
from notifications.reports import patients_reached
from reports.rollups import rolled_up_figures

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

MAX_RANGE_DAYS: Final = 3 * 366
DEFAULT_RANGE_DAYS: Final = 365
MAX_ID: Final = 2**63 - 1


class ReportRequestError(ValueError):
    """The query asks for something that is not a report: its field and why."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class ReportRequest:
    team_ids: tuple[int, ...]
    team_names: tuple[str, ...]
    care_team: int | None
    start: date
    end: date

    @property
    def scope(self) -> Scope:
        return Scope(self.team_ids, self.start, self.end)


def _day(params: Mapping[str, str], name: str, default: date) -> date:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"{name} must be a date like 2026-01-31"
        raise ReportRequestError(msg, field=name) from None


def parse_request(user: Any, params: Mapping[str, str]) -> ReportRequest:  # noqa: ANN401
    """The teams and dates a report covers; 400 for bad input, 404 for a team not the user's."""
    today = timezone.localdate()
    end = _day(params, "to", today)
    span = timedelta(days=DEFAULT_RANGE_DAYS - 1)
    start = _day(params, "from", end - span if end - date.min > span else date.min)
    if start > end:
        msg = "from must be on or before to"
        raise ReportRequestError(msg, field="from")
    if (end - start).days >= MAX_RANGE_DAYS:
        msg = f"a report covers at most {MAX_RANGE_DAYS} days"
        raise ReportRequestError(msg, field="to")
    teams = care_teams_for(user)
    text = (params.get("care_team") or "").strip()
    team_id: int | None = None
    if text:
        if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
            msg = "care_team must be a care team's id"
            raise ReportRequestError(msg, field="care_team")
        team_id = int(text)
        teams = teams.filter(pk=team_id)
    rows = list(teams.values_list("pk", "name"))
    if team_id is not None and not rows:
        raise Http404
    return ReportRequest(
        team_ids=tuple(pk for pk, _ in rows),
        team_names=tuple(name for _, name in rows),
        care_team=team_id,
        start=start,
        end=end,
    )


def collect(request: ReportRequest, today: date | None = None) -> Figures:
    """Every figure and the episodes behind each, read live from the rows."""
    figures = episode_figures(request.scope, today)
    patients_reached(request.scope, figures)
    return figures


def adherence_report(request: ReportRequest, today: date | None = None) -> dict[str, Any]:
    """The report as JSON-ready data: what it covers and every figure with its rules.

    From the current monthly rollups and the rest of the range read live
    (``reports.rollups``): the same figures as ``collect``'s, which reads every row.
    """
    figures = rolled_up_figures(request.scope, today=today)
    return {
        "care_team": request.care_team,
        "care_teams": list(request.team_names),
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "cohort": "episodes enrolled from..to (patient-local dates), followed to today",
        "pathway_version": PATHWAY_VERSION,
        "figures": figures,
    }


def figure_episode_ids(request: ReportRequest, figure: str) -> set[int]:
    """The episodes behind one figure; ``Http404`` for a figure the report does not have."""
    drill = collect(request).drill
    if figure not in drill:
        raise Http404
    return drill[figure]


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:  # noqa: ANN401
    """(path, value) pairs of nested data: ``figures.esi.injections``, ``...reminders.0.sent``."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        for index, value in enumerate(data):
            yield from flatten(value, f"{prefix}.{index}")
    elif isinstance(data, list):
        yield prefix, " ".join(str(v) for v in data)
    else:
        yield prefix, "" if data is None else str(data)
