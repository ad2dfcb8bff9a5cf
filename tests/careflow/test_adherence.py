"""The adherence report's arithmetic, without a database: each answer worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from careflow.adherence import (
    Interval,
    Move,
    counts_for_imaging,
    days_in_states,
    education_within_two_weeks,
    finding_date,
    fusion_indications,
    hours_to_referral,
    is_low_value_imaging,
    median,
    month_ends,
    on_time,
    overdue_referral,
    percentile,
    rate,
    referral_rule_group,
    resolved_by_three_months,
    started_by,
    states_on,
    states_on_days,
)
from careflow.facts import Facts
from careflow.redflags import RedFlag
from careflow.states import State


def test_nearest_rank_median_and_p90():
    assert median([]) is None
    assert median([5]) == 5
    assert median([4, 1, 3, 2]) == 2  # rank ceil(0.5*4) = 2: the lower middle
    assert median([3, 1, 2]) == 2
    values = list(range(1, 11))  # 1..10
    assert percentile(values, 90) == 9  # rank ceil(9.0) = 9
    assert percentile([*values, 11], 90) == 10  # rank ceil(9.9) = 10
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 10
    with pytest.raises(ValueError, match="within"):
        percentile(values, 101)


def test_rate_is_none_when_nothing_to_divide():
    assert rate(1, 0) is None
    assert rate(2, 3) == 0.6667
    assert rate(0, 4) == 0.0


def test_low_value_imaging_is_before_day_42_without_an_active_flag():
    start = date(2026, 1, 1)
    assert is_low_value_imaging(date(2026, 2, 11), start, [])  # day 41
    assert not is_low_value_imaging(date(2026, 2, 12), start, [])  # day 42
    flag = Interval(date(2026, 1, 10), ruled_out_on=date(2026, 1, 20))
    assert not is_low_value_imaging(date(2026, 1, 10), start, [flag])  # the day it is raised
    assert not is_low_value_imaging(date(2026, 1, 19), start, [flag])
    # Ruled out that day: it was active on it (the study may have come first).
    assert not is_low_value_imaging(date(2026, 1, 20), start, [flag])
    assert is_low_value_imaging(date(2026, 1, 21), start, [flag])  # the day after
    assert is_low_value_imaging(date(2026, 1, 9), start, [flag])  # before it was raised
    assert not is_low_value_imaging(date(2026, 1, 30), start, [Interval(date(2026, 1, 2), None)])


def test_referral_rules_findings_and_the_last_day():
    onset = date(2025, 10, 1)
    assert referral_rule_group("RF-3") == "RF"
    assert referral_rule_group("REF-2") == "REF-2"
    assert finding_date("REF-1", date(2026, 1, 1), onset) == onset
    assert finding_date("REF-2", date(2026, 2, 5), onset) == date(2026, 1, 22)
    assert finding_date("REF-3", date(2026, 1, 19), onset) == date(2026, 1, 19)
    assert finding_date("RF-1", date(2026, 1, 12), onset) == date(2026, 1, 12)
    assert on_time(date(2026, 2, 5), date(2026, 2, 5))  # met on its last day
    assert not on_time(date(2026, 2, 6), date(2026, 2, 5))


def test_hours_from_a_flag_to_the_referral_that_answers_it():
    raised = datetime(2026, 1, 12, 10, tzinfo=UTC)
    before = datetime(2026, 1, 11, 9, tzinfo=UTC)
    after = datetime(2026, 1, 12, 16, tzinfo=UTC)
    assert hours_to_referral(raised, None, [before, after]) == 6.0
    # A flag raised after the only referral: that referral does not answer it.
    assert hours_to_referral(raised, None, [before]) is None
    # Ruled out before any referral came: not a flag a referral answered.
    ruled_out = datetime(2026, 1, 12, 12, tzinfo=UTC)
    assert hours_to_referral(raised, ruled_out, [after]) is None
    assert hours_to_referral(raised, datetime(2026, 1, 13, tzinfo=UTC), [after]) == 6.0


def test_a_study_before_onset_documents_an_earlier_episode():
    onset = date(2026, 1, 10)
    assert not counts_for_imaging(date(2026, 1, 9), onset)
    assert counts_for_imaging(date(2026, 1, 10), onset)


def test_education_day_14_of_enrolment_counts_day_15_does_not():
    enrolled = date(2026, 1, 15)
    assert education_within_two_weeks(enrolled, [date(2026, 1, 29)])
    assert not education_within_two_weeks(enrolled, [date(2026, 1, 30)])
    assert not education_within_two_weeks(enrolled, [])


def test_a_plan_item_has_started_once_its_start_date_is_reached():
    today = date(2026, 3, 1)
    assert started_by(date(2026, 3, 1), today)
    assert not started_by(date(2026, 3, 2), today)  # planned for tomorrow
    assert not started_by(None, today)  # no start recorded


def test_fusion_indications_are_each_code_of_the_plan():
    assert fusion_indications("instability") == ["instability"]
    assert fusion_indications("recurrent_herniation_reoperation,instability") == [
        "recurrent_herniation_reoperation",
        "instability",
    ]
    assert fusion_indications("") == []


def test_the_overdue_referral_is_the_referral_deadline_not_the_earliest_one():
    # Care back-dated: the CC-1 reassessment (02-12) comes before REF-2's deadline (02-19).
    facts = Facts(
        symptom_onset=date(2026, 1, 1),
        conservative_care_start=date(2026, 1, 1),
        disabling_pain=True,
        disabling_pain_recorded_on=date(2026, 2, 5),
    )
    state = State.CONSERVATIVE_CARE
    assert overdue_referral(state, facts, date(2026, 2, 19)) is None  # its last day
    overdue = overdue_referral(state, facts, date(2026, 2, 20))
    assert overdue is not None
    assert (overdue.rule, overdue.due) == ("REF-2", date(2026, 2, 19))
    # Referred: nothing overdue, whatever the reassessment.
    referred = replace(facts, referral_made_on=date(2026, 2, 10))
    assert overdue_referral(State.SPECIALIST_REFERRAL, referred, date(2026, 3, 1)) is None
    # A flag raised after the referral sets a new deadline, due that day.
    flagged = replace(referred, active_red_flags=(RedFlag("fever", date(2026, 2, 20)),))
    overdue = overdue_referral(State.URGENT_ESCALATION, flagged, date(2026, 2, 21))
    assert overdue is not None
    assert overdue.rule == "RF-4"


def test_resolved_by_three_calendar_months():
    onset = date(2025, 11, 30)
    assert resolved_by_three_months(onset, date(2026, 2, 28))  # clamped month end
    assert not resolved_by_three_months(onset, date(2026, 3, 1))
    assert not resolved_by_three_months(onset, None)


def test_states_on_a_day_and_time_in_each_state():
    moves = [
        Move(date(2026, 1, 19), "conservative_care", "specialist_referral"),
        Move(date(2026, 1, 25), "specialist_referral", "urgent_escalation"),
    ]
    history = [(date(2026, 1, 5), "conservative_care", moves)]
    assert states_on(date(2026, 1, 4), history) == {}
    assert states_on(date(2026, 1, 19), history) == {"specialist_referral": 1}
    assert states_on(date(2026, 1, 31), history) == {"urgent_escalation": 1}
    assert days_in_states(date(2026, 1, 5), "conservative_care", moves) == [
        ("conservative_care", 14),
        ("specialist_referral", 6),
    ]


def test_states_on_many_days_match_one_day_at_a_time():
    moves = [
        Move(date(2026, 1, 19), "conservative_care", "urgent_escalation"),
        Move(date(2026, 1, 19), "urgent_escalation", "specialist_referral"),
        Move(date(2026, 3, 2), "specialist_referral", "resolved"),
    ]
    history = [
        (date(2026, 1, 5), "conservative_care", moves),
        (date(2026, 2, 14), "conservative_care", []),
    ]
    days = [date(2026, 1, 4), date(2026, 1, 18), date(2026, 1, 19), date(2026, 2, 28)]
    days += [date(2026, 3, 2), date(2026, 4, 30)]
    assert states_on_days(days, history) == [states_on(day, history) for day in days]
    assert states_on_days(days, history)[3] == {"specialist_referral": 1, "conservative_care": 1}


def test_month_ends_close_on_the_last_day_asked():
    assert month_ends(date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert month_ends(date(2026, 1, 15), date(2026, 2, 10)) == [
        date(2026, 1, 31),
        date(2026, 2, 10),
    ]
    assert month_ends(date(2026, 2, 1), date(2026, 1, 1)) == []
