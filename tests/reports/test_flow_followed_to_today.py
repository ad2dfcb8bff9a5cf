"""Flow: the cohort (enrolled in the range) is followed to today, past the range's end."""

from __future__ import annotations

from datetime import date

from episodes import services
from tests.reports.services_data import enrol, figures, on

JAN1, JAN31 = date(2026, 1, 1), date(2026, 1, 31)
TODAY = date(2026, 5, 10)


def test_states_at_each_month_end_run_to_today(team, coordinator, clinician):
    episode = enrol(team, coordinator, day=date(2026, 1, 10), onset=date(2026, 1, 5))
    with on(date(2026, 4, 15)):
        services.episode_transition(episode_id=episode.pk, name="resolve", by=clinician, data={})

    flow = figures(team, JAN1, JAN31, today=TODAY)["flow"]

    assert flow["states_over_time"] == [
        {"on": "2026-01-31", "states": {"conservative_care": 1}},
        {"on": "2026-02-28", "states": {"conservative_care": 1}},
        {"on": "2026-03-31", "states": {"conservative_care": 1}},
        {"on": "2026-04-30", "states": {"resolved": 1}},
        {"on": "2026-05-10", "states": {"resolved": 1}},
    ]
    assert flow["days_in_state"]["conservative_care"]["median_days"] == 95
    # Onset 01-05 + 3 months = 04-05: resolved 04-15 is after it.
    assert flow["resolved_by_3_months"] == 0
