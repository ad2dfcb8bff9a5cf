"""The pure rules of urgency over time, without a database: each rule both ways."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from careflow import rules
from careflow.deadlines import next_actions, referral_deadline
from careflow.facts import Facts, ImagingFinding
from careflow.guards import evaluate, required_referral_urgency
from careflow.redflags import RedFlag
from careflow.schedule import queue_moments
from careflow.states import State

ONSET = date(2026, 10, 1)
TODAY = date(2026, 10, 3)
BASE = Facts(symptom_onset=ONSET, conservative_care_start=ONSET)
RF1 = RedFlag(sign="saddle_anesthesia", raised_on=TODAY)
MRI = ImagingFinding("mri", TODAY, nerve_root_compression=True, clinically_correlated=True)


def rule_ids(name, facts, data=None, today=TODAY):
    return [r.rule for r in evaluate(name, facts, today, data)]


def test_urg1_waives_radicular_pain_but_not_compression():
    flagged = replace(BASE, active_red_flags=(RF1,), imaging=(MRI,))
    assert rule_ids("begin_surgical_review", flagged) == []
    assert rule_ids("begin_surgical_review", replace(flagged, imaging=())) == [rules.SX_1]
    assert rules.SX_1 in rule_ids("begin_surgical_review", replace(flagged, active_red_flags=()))


def test_imaging_before_onset_is_an_earlier_episode():
    old = replace(MRI, performed_on=date(2026, 9, 1))
    flagged = replace(BASE, active_red_flags=(RF1,), imaging=(old,))
    assert not flagged.compression_on_imaging()
    assert rule_ids("begin_surgical_review", flagged) == [rules.SX_1]


@pytest.mark.parametrize(
    ("facts", "required"),
    [
        (BASE, None),
        (replace(BASE, disabling_pain=True), ("within_2_weeks", rules.REF_2)),
        (replace(BASE, neurological_deficit=True), ("immediate", rules.REF_3)),
        (replace(BASE, disabling_pain=True, active_red_flags=(RF1,)), ("immediate", rules.RF_1)),
    ],
)
def test_required_referral_urgency(facts, required):
    assert required_referral_urgency(facts) == required


def test_referral_gate_refuses_lower_and_takes_equal_or_higher():
    flagged = replace(BASE, active_red_flags=(RF1,))
    assert rule_ids("refer_to_specialist", flagged, {"urgency": "routine"}) == [rules.RF_1]
    assert rule_ids("refer_to_specialist", flagged, {"urgency": "immediate"}) == []
    disabling = replace(BASE, disabling_pain=True)
    assert rule_ids("refer_to_specialist", disabling, {"urgency": "routine"}) == [rules.REF_2]
    assert rule_ids("refer_to_specialist", disabling, {"urgency": "within_2_weeks"}) == []
    assert rule_ids("refer_to_specialist", disabling, {"urgency": "immediate"}) == []
    assert rule_ids("refer_to_specialist", flagged) == []  # the preview: no body yet


def test_resolve_needs_every_flag_ruled_out():
    assert rule_ids("resolve", replace(BASE, active_red_flags=(RF1,))) == [rules.RF]
    assert rule_ids("resolve", BASE) == []


def test_plan_surgery_checks_elective_gates_only_once_urg1_lapsed():
    body = {"procedure": "discectomy", "technique": "open"}
    urgent_review = replace(BASE, surgical_review_urgent=True, imaging=(MRI,))
    lapsed = set(rule_ids("plan_surgery", urgent_review, body))
    assert lapsed == {rules.CC_1, rules.SX_1, rules.SX_2}
    assert rule_ids("plan_surgery", replace(urgent_review, active_red_flags=(RF1,)), body) == []
    assert (
        rule_ids("plan_surgery", replace(urgent_review, surgical_review_urgent=False), body) == []
    )


@pytest.mark.parametrize(
    ("indication", "allowed"),
    [
        ("recurrent_herniation_reoperation", False),
        (["recurrent_herniation_reoperation"], False),
        (["recurrent_herniation_reoperation", "instability"], True),
        (["recurrent_herniation_reoperation", "chronic_axial_pain"], True),
        # SX-5: any one indication that holds is enough; the reoperation code never cancels it.
        (["recurrent_herniation_reoperation", "manual_laborer"], True),
        (["recurrent_herniation_reoperation", "severe_degeneration"], True),
        (["manual_laborer", "recurrent_herniation_reoperation"], True),
        ("manual_laborer", True),
        (["instability", "not_a_code"], False),
        ([], False),
    ],
)
def test_sx5_fusion_indications(indication, allowed):
    found = rule_ids("plan_surgery", BASE, {"procedure": "fusion", "fusion_indication": indication})
    assert found == ([] if allowed else [rules.SX_5])


def test_a_flag_after_the_referral_sets_a_deadline_that_day():
    referred = replace(BASE, referral_made_on=date(2026, 10, 2))
    assert referral_deadline(referred) is None
    later_flag = RedFlag(sign="fever", raised_on=date(2026, 10, 20))
    deadline = referral_deadline(replace(referred, active_red_flags=(later_flag,)))
    assert (deadline.due, deadline.rule) == (date(2026, 10, 20), rules.RF_4)
    earlier_flag = RedFlag(sign="fever", raised_on=date(2026, 10, 1))
    assert referral_deadline(replace(referred, active_red_flags=(earlier_flag,))) is None


def test_review_state_when_the_admitting_facts_stop_holding():
    held = replace(BASE, conservative_therapy_failed=True, candidate_for_esi=True)
    day_50 = date(2026, 11, 20)
    assert "review_state" not in [
        a.action for a in next_actions(State.IMAGING_ELIGIBLE, held, day_50)
    ]
    lapsed = replace(held, conservative_therapy_failed=False)
    review = [
        a
        for a in next_actions(State.IMAGING_ELIGIBLE, lapsed, day_50)
        if a.action == "review_state"
    ]
    assert [(a.due, a.rule) for a in review] == [(day_50, rules.IM_1)]


def test_queue_moments_are_local_midnights_across_dst():
    ny = ZoneInfo("America/New_York")
    # 2026-11-01 is the end of daylight saving time in New York.
    moments = queue_moments(
        next_deadline=date(2026, 11, 1), reassessment_due_on=date(2026, 11, 1), zone=ny
    )
    assert moments.overdue_from == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # EST
    assert moments.due_soon_from == datetime(2026, 10, 25, 4, 0, tzinfo=UTC)  # EDT
    assert moments.reassessment_due_from == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    none = queue_moments(next_deadline=None, reassessment_due_on=None, zone=ny)
    assert (none.overdue_from, none.due_soon_from, none.reassessment_due_from) == (None, None, None)


def test_facts_come_back_from_a_log_snapshot():
    facts = replace(BASE, active_red_flags=(RF1,), imaging=(MRI,), referral_made_on=TODAY)
    assert Facts.from_snapshot(facts.snapshot()) == facts
