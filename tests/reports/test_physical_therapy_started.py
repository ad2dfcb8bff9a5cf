"""CC-4: episodes whose Level B physical therapy has started (a start date, reached).

An item with no start date is planned, not started; one starting after today has not
started yet. Today is the patient's local date.
"""

from __future__ import annotations

from datetime import date

from episodes import services
from tests.reports.services_data import behind, enrol, figures, on

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)


def _therapy(team, today: date) -> int:
    return figures(team, JAN1, MAR31, today=today)["conservative_care"]["level_b_physical_therapy"]


def test_physical_therapy_counts_from_its_start_date(team, coordinator):
    episode = enrol(team, coordinator, day=date(2026, 2, 1), onset=JAN1)
    with on(date(2026, 2, 1)):
        services.care_plan_item_add(
            episode_id=episode.pk, by=coordinator, item="mckenzie", started_on=date(2026, 2, 10)
        )

    assert _therapy(team, date(2026, 2, 9)) == 0
    assert behind(team, JAN1, MAR31, "physical_therapy_missing", today=date(2026, 2, 9)) == {
        episode.pk
    }
    assert _therapy(team, date(2026, 2, 10)) == 1


def test_physical_therapy_without_a_start_date_has_not_started(team, coordinator):
    episode = enrol(team, coordinator, day=date(2026, 2, 1), onset=JAN1)
    with on(date(2026, 2, 1)):
        services.care_plan_item_add(episode_id=episode.pk, by=coordinator, item="mckenzie")

    assert _therapy(team, date(2026, 3, 1)) == 0
