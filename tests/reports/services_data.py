"""Report data built through the services, each write on its own patient-local day."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import time_machine

from episodes import services
from episodes.models import Episode
from reports.figures import ReportRequest, adherence_report, figure_episode_ids
from tests.factories import PatientFactory

NY = "America/New_York"


@contextmanager
def on(day: date, hour: int = 10, zone: str = NY) -> Iterator[None]:
    """The clock at ``hour`` on ``day`` in ``zone`` (the patient's local date is ``day``)."""
    with time_machine.travel(datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)), tick=False):
        yield


def enrol(team, by, *, day: date, onset: date, start: date | None = None, **facts) -> Episode:
    patient = PatientFactory(care_team=team, timezone=NY)
    with on(day):
        return services.episode_create(
            patient=patient, by=by, symptom_onset=onset, conservative_care_start=start, **facts
        )


def request_for(team, start: date, end: date) -> ReportRequest:
    return ReportRequest((team.pk,), (team.name,), team.pk, start, end)


def figures(team, start: date, end: date, *, today: date) -> dict:
    with on(today, 12):
        return adherence_report(request_for(team, start, end))["figures"]


def behind(team, start: date, end: date, figure: str, *, today: date) -> set[int]:
    with on(today, 12):
        return figure_episode_ids(request_for(team, start, end), figure)
