"""CC-2 education within 14 days of enrolment (``enrolled_on``), day 14 included.

Not of ``conservative_care_start``: that may be back-dated to therapy before enrolment.
"""

from __future__ import annotations

from datetime import date

from episodes import services
from tests.reports.services_data import behind, enrol, figures, on

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)
TODAY = date(2026, 3, 1)
ENROLLED = date(2026, 2, 1)
BACK_DATED = date(2026, 1, 2)  # prior therapy documented: 30 days before enrolment


def _educate(team, coordinator, day: date):
    episode = enrol(team, coordinator, day=ENROLLED, onset=JAN1, start=BACK_DATED)
    with on(day):
        services.care_plan_item_add(
            episode_id=episode.pk, by=coordinator, item="natural_history_education"
        )
    return episode


def test_education_on_day_14_of_enrolment_counts(team, coordinator):
    _educate(team, coordinator, date(2026, 2, 15))  # day 14 of enrolment, day 44 of care

    care = figures(team, JAN1, MAR31, today=TODAY)["conservative_care"]
    assert (care["education_within_2_weeks"], care["education_share"]) == (1, 1.0)


def test_education_on_day_15_of_enrolment_does_not(team, coordinator):
    episode = _educate(team, coordinator, date(2026, 2, 16))

    care = figures(team, JAN1, MAR31, today=TODAY)["conservative_care"]
    assert care["education_within_2_weeks"] == 0
    assert behind(team, JAN1, MAR31, "education_missing", today=TODAY) == {episode.pk}
