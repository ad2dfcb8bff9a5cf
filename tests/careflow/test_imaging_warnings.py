"""IM-2 as a warning: imaging before day 42 with no red flag active is recorded, and said so."""

from __future__ import annotations

from datetime import date, timedelta

from careflow import rules
from careflow.adherence import Interval, imaging_warnings

ONSET = date(2026, 10, 1)


def warn(performed_on: date, flags: list[Interval] | None = None, start: date = ONSET) -> list:
    return imaging_warnings(
        performed_on, symptom_onset=ONSET, conservative_care_start=start, flags=flags or []
    )


def test_imaging_on_day_8_with_no_flag_warns_im2():
    (reason,) = warn(ONSET + timedelta(days=8))
    assert reason.rule == rules.IM_2
    assert "this study is from day 8, with no red flag active that day" in reason.message
    assert "recorded" in reason.message


def test_imaging_from_day_42_does_not_warn():
    assert warn(ONSET + timedelta(days=42)) == []
    assert warn(ONSET + timedelta(days=41)) != []


def test_a_flag_active_that_day_waives_it():
    fever = Interval(ONSET + timedelta(days=5), ruled_out_on=ONSET + timedelta(days=9))
    assert warn(ONSET + timedelta(days=8), [fever]) == []
    assert warn(ONSET + timedelta(days=9), [fever]) == []  # the day it was ruled out counts
    assert warn(ONSET + timedelta(days=10), [fever]) != []
    assert warn(ONSET + timedelta(days=4), [fever]) != []


def test_a_study_before_onset_is_an_earlier_episodes_and_does_not_warn():
    assert warn(ONSET - timedelta(days=30)) == []


def test_days_count_from_the_start_of_conservative_care():
    start = ONSET + timedelta(days=20)
    (reason,) = warn(ONSET + timedelta(days=50), start=start)
    assert "day 30" in reason.message
