"""The urgent queue's order, next actions' order and "after" between moments, without a database.

PATHWAY.md "Order of the urgent queue", "Next actions", "Facts change over time" (moments,
not dates) and the ``clear_escalation`` target, each both ways.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from careflow import rules
from careflow.deadlines import next_actions, referral_deadline
from careflow.facts import Facts
from careflow.redflags import RedFlag
from careflow.states import TRANSITIONS, State, TransitionName
from careflow.urgency import acted_on, pressing_order, urgent_rank

ONSET = date(2026, 10, 1)
DAY = date(2026, 10, 10)
MORNING = datetime(2026, 10, 10, 13, 0, tzinfo=UTC)
NOON = MORNING + timedelta(hours=3)
AFTERNOON = MORNING + timedelta(hours=6)
BASE = Facts(symptom_onset=ONSET, conservative_care_start=ONSET, enrolled_on=ONSET)


def flag(sign: str, at: datetime, on: date = DAY) -> RedFlag:
    return RedFlag(sign=sign, raised_on=on, raised_at=at)


def referred(facts: Facts, at: datetime = NOON) -> Facts:
    return replace(facts, referral_made_on=at.date(), referral_made_at=at)


CAUDA = flag("saddle_anesthesia", MORNING)  # RF-1
FEVER = flag("fever", MORNING)  # RF-4


# -- acted on, and the rank ------------------------------------------------------------------


def test_a_flag_is_acted_on_by_a_referral_after_it_not_before():
    flagged = replace(BASE, active_red_flags=(CAUDA,))
    assert not acted_on(flagged)
    assert acted_on(referred(flagged, NOON))
    # A referral made before the flag was raised (the same day) did not act on it.
    late = replace(flagged, active_red_flags=(flag("saddle_anesthesia", AFTERNOON),))
    assert not acted_on(referred(late, NOON))


def test_a_newer_flag_after_the_referral_is_not_acted_on_by_it():
    """The safer reading: every active flag must have been followed by the referral."""
    both = replace(BASE, active_red_flags=(CAUDA, flag("fever", AFTERNOON)))
    assert not acted_on(referred(both, NOON))
    assert acted_on(referred(both, AFTERNOON + timedelta(minutes=5)))


@pytest.mark.parametrize(
    ("facts", "rank"),
    [
        (replace(BASE, active_red_flags=(CAUDA,)), 0),  # RF-1 not acted on
        (replace(BASE, active_red_flags=(flag("progressive_motor_deficit", MORNING),)), 0),  # RF-2
        (replace(BASE, active_red_flags=(FEVER,)), 1),  # RF-4 not acted on
        (replace(BASE, active_red_flags=(flag("osteoporosis", MORNING),)), 1),  # RF-5
        (referred(replace(BASE, active_red_flags=(CAUDA,))), 2),  # RF-1 waiting on specialist
        (referred(replace(BASE, active_red_flags=(FEVER,))), 3),  # RF-4 waiting on specialist
        (replace(BASE, active_red_flags=(FEVER, CAUDA)), 0),  # any RF-1 counts
        # A patient's report on a closed episode (no active flag): not acted on, its category.
        (replace(BASE, unreviewed_report_on=DAY, unreviewed_report_rule=rules.RF_1), 0),
        (replace(BASE, unreviewed_report_on=DAY, unreviewed_report_rule=rules.RF_4), 1),
        # RF-1 reported again after the urgent referral: waiting on specialist care, RF-1.
        (
            referred(
                replace(
                    BASE,
                    active_red_flags=(FEVER,),
                    unreviewed_report_on=DAY,
                    unreviewed_report_rule=rules.RF_1,
                )
            ),
            2,
        ),
    ],
)
def test_urgent_rank(facts, rank):
    assert urgent_rank(facts) == rank


# -- "after" a referral is between moments (a flag raised after a same-day referral) --------


def test_a_flag_raised_after_a_same_day_referral_sets_its_own_deadline():
    old = flag("saddle_anesthesia", MORNING - timedelta(days=3), DAY - timedelta(days=3))
    later = flag("fever", AFTERNOON)
    facts = referred(replace(BASE, active_red_flags=(old, later)), NOON)
    deadline = referral_deadline(facts)
    assert (deadline.due, deadline.rule) == (DAY, rules.RF_4)
    assert not deadline.overdue(DAY)


def test_a_flag_raised_before_a_same_day_referral_was_met_by_it():
    facts = referred(replace(BASE, active_red_flags=(CAUDA,)), NOON)
    assert referral_deadline(facts) is None
    # Compared by dates, the same flag would still look raised "after" the referral.
    assert referral_deadline(replace(facts, referral_made_at=None)) is not None


# -- next actions: urgent first, then overdue, then by date ---------------------------------


def actions(state, facts, today=DAY):
    return [(a.action, a.rule) for a in next_actions(state, facts, today)]


def test_urgent_actions_come_before_older_routine_ones_while_a_flag_is_active():
    flagged = replace(BASE, active_red_flags=(CAUDA,))
    assert actions(State.URGENT_ESCALATION, flagged) == [
        ("urgent_imaging", rules.URG_1),
        ("refer_to_specialist", rules.RF_1),
        ("educate_patient", rules.CC_2),  # due at enrolment, days earlier: still after
    ]
    # Without a flag the order is by date: education (due at enrolment) first.
    assert actions(State.CONSERVATIVE_CARE, BASE, ONSET + timedelta(days=50))[0] == (
        "educate_patient",
        rules.CC_2,
    )


def test_routine_actions_are_in_date_order_overdue_first():
    facts = replace(BASE, education_recorded=True, resolution_reported_on=ONSET + timedelta(45))
    today = ONSET + timedelta(days=50)
    assert actions(State.CONSERVATIVE_CARE, facts, today) == [
        ("reassess", rules.CC_1),  # due day 42: overdue
        ("confirm_resolution", rules.CHECKIN),  # due day 45: overdue
        ("refer_to_specialist", rules.REF_1),  # due at three months
    ]


def test_a_patients_report_to_review_comes_first_even_on_an_ended_episode():
    report = replace(BASE, unreviewed_report_on=DAY, unreviewed_report_rule=rules.RF_1)
    assert actions(State.CONSERVATIVE_CARE, report)[0] == ("review_patient_report", rules.RF_1)
    assert actions(State.CLOSED, report) == [("review_patient_report", rules.RF_1)]
    assert actions(State.CLOSED, BASE) == []


# -- clear_escalation goes back to specialist care once referred -----------------------------


def test_clear_escalation_target_depends_on_the_referral():
    spec = TRANSITIONS[TransitionName.CLEAR_ESCALATION]
    assert spec.target_for(referral_made=False) == State.CONSERVATIVE_CARE
    assert spec.target_for(referral_made=True) == State.SPECIALIST_REFERRAL
    assert spec.targets == (State.CONSERVATIVE_CARE, State.SPECIALIST_REFERRAL)
    # Every other transition has one target, whatever the referral.
    escalate = TRANSITIONS[TransitionName.ESCALATE]
    assert escalate.target_for(referral_made=True) == State.URGENT_ESCALATION


def test_moments_survive_the_transition_log_snapshot():
    facts = referred(replace(BASE, active_red_flags=(CAUDA,)), NOON)
    again = Facts.from_snapshot(facts.snapshot())
    assert again.referral_made_at == NOON
    assert again.active_red_flags[0].raised_at == MORNING
    assert acted_on(again)


def test_most_pressing_first_puts_every_urgent_episode_before_any_deadline():
    """The queues without an order of their own: urgent by rank, then the deadline, then id."""
    overdue_long_ago = pressing_order(None, date(2020, 1, 1), 1)
    urgent_acted_on = pressing_order(3, None, 9)
    urgent_rf1 = pressing_order(0, date(2030, 1, 1), 8)
    no_deadline = pressing_order(None, None, 2)
    due_later = pressing_order(None, date(2027, 1, 1), 3)
    assert sorted([no_deadline, due_later, overdue_long_ago, urgent_acted_on, urgent_rf1]) == [
        urgent_rf1,
        urgent_acted_on,
        overdue_long_ago,
        due_later,
        no_deadline,
    ]
    # The other way: outside the urgent queue, the soonest deadline, then the oldest, first.
    assert pressing_order(None, date(2027, 1, 1), 5) < pressing_order(None, date(2027, 1, 2), 4)
    assert pressing_order(None, date(2027, 1, 1), 4) < pressing_order(None, date(2027, 1, 1), 5)
