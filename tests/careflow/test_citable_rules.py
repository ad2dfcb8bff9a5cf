"""What each guard can cite, asked of the guard itself (the pathway picture and PlanDefinition)."""

from __future__ import annotations

from careflow import rules
from careflow.guards import citable_rules, waived_by_red_flag
from careflow.states import TransitionName


def test_referral_cites_the_urgency_each_finding_asks_for():
    cited = set(citable_rules(TransitionName.REFER_TO_SPECIALIST))
    assert cited == {
        rules.RF_1, rules.RF_2, rules.RF_3, rules.RF_4, rules.RF_5, rules.REF_2, rules.REF_3,
    }  # fmt: skip


def test_urg1_waives_the_elective_gates_of_surgical_review_and_imaging_but_never_esi():
    assert waived_by_red_flag(TransitionName.BEGIN_SURGICAL_REVIEW)
    assert waived_by_red_flag(TransitionName.CONFIRM_IMAGING_ELIGIBILITY)
    assert not waived_by_red_flag(TransitionName.SCHEDULE_ESI)
    assert not waived_by_red_flag(TransitionName.DECLARE_REFRACTORY)


def test_a_lapsed_waiver_is_found_on_plan_surgery():
    assert {rules.CC_1, rules.SX_1, rules.SX_2} <= set(citable_rules(TransitionName.PLAN_SURGERY))
