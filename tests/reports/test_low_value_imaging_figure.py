"""Low-value imaging (IM-2, CC-1): before day 42 with no red flag active on that day.

Over all studies of this episode: a study dated before ``symptom_onset`` documents an
earlier episode and is not counted at all. A flag ruled out on the day of a study was
active on that day.
"""

from __future__ import annotations

from datetime import date

from episodes import services
from tests.reports.services_data import behind, enrol, figures, on

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)
TODAY = date(2026, 3, 1)


def _imaging(team) -> dict:
    return figures(team, JAN1, MAR31, today=TODAY)["low_value_imaging"]


def test_a_study_before_onset_is_not_counted(team, coordinator):
    episode = enrol(team, coordinator, day=date(2026, 1, 20), onset=date(2026, 1, 10))
    with on(date(2026, 1, 20)):
        # An MRI of an earlier episode, and one of this episode on day 0 of its care.
        services.imaging_record(
            episode_id=episode.pk, by=coordinator, performed_on=date(2025, 6, 1)
        )
        services.imaging_record(
            episode_id=episode.pk, by=coordinator, performed_on=date(2026, 1, 20)
        )

    assert _imaging(team) == {"rules": ["IM-2", "CC-1"], "studies": 1, "low_value": 1, "rate": 1.0}


def test_only_a_study_before_onset_leaves_nothing_to_count(team, coordinator):
    episode = enrol(team, coordinator, day=date(2026, 1, 20), onset=date(2026, 1, 10))
    with on(date(2026, 1, 20)):
        services.imaging_record(
            episode_id=episode.pk, by=coordinator, performed_on=date(2025, 6, 1)
        )

    assert _imaging(team) == {"rules": ["IM-2", "CC-1"], "studies": 0, "low_value": 0, "rate": None}
    assert behind(team, JAN1, MAR31, "low_value_imaging", today=TODAY) == set()


def test_a_study_on_the_day_its_flag_was_ruled_out_had_a_flag_active(team, coordinator, clinician):
    on_the_day = enrol(team, coordinator, day=date(2026, 1, 5), onset=date(2026, 1, 1))
    day_after = enrol(team, coordinator, day=date(2026, 1, 5), onset=date(2026, 1, 1))
    for episode in (on_the_day, day_after):
        with on(date(2026, 1, 10), 9):
            flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        with on(date(2026, 1, 12), 16):
            services.red_flag_rule_out(
                flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="afebrile, normal CRP"
            )
    with on(date(2026, 1, 13)):
        services.imaging_record(
            episode_id=on_the_day.pk, by=clinician, performed_on=date(2026, 1, 12)
        )
        services.imaging_record(
            episode_id=day_after.pk, by=clinician, performed_on=date(2026, 1, 13)
        )

    assert _imaging(team)["low_value"] == 1
    assert behind(team, JAN1, MAR31, "low_value_imaging", today=TODAY) == {day_after.pk}
