"""Every pathway rule proven both ways, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from careflow import rules
from careflow.careplan import CATALOGUE, plan_item_flags
from careflow.dates import add_months, age_on
from careflow.deadlines import deadlines, milestones, next_actions, referral_deadline
from careflow.facts import Facts, ImagingFinding
from careflow.guards import evaluate
from careflow.redflags import RedFlag, Sign, category_of, derived_signs
from careflow.states import State, TransitionName

START = date(2026, 10, 26)  # conservative care start, also symptom onset


def facts(**overrides: object) -> Facts:
    base = Facts(symptom_onset=START, conservative_care_start=START)
    return replace(base, **overrides)


def rule_ids(reasons: list) -> set[str]:
    return {r.rule for r in reasons}


COMPRESSION = ImagingFinding(
    modality="mri_lumbar_without_contrast",
    performed_on=START + timedelta(days=45),
    nerve_root_compression=True,
    clinically_correlated=True,
    level="L5-S1",
)
FLAG = RedFlag(sign="saddle_anesthesia", raised_on=START + timedelta(days=5))
ELECTIVE_SURGICAL = {
    "radicular_pain": True,
    "conservative_therapy_failed": True,
    "function_significantly_limited": True,
    "biopsychosocial_assessment_done": True,
    "imaging": (COMPRESSION,),
}
GOOD_ESI = {"guidance": "fluoroscopic", "approach": "transforaminal", "patient_consented": True}


# --- day arithmetic ------------------------------------------------------------------------


def test_three_calendar_months_clamp_to_month_end() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 10, 1), 3) == date(2027, 1, 1)


def test_age_counts_completed_years() -> None:
    assert age_on(date(1975, 11, 25), date(2026, 11, 24)) == 50
    assert age_on(date(1975, 11, 25), date(2026, 11, 25)) == 51


# --- red flags (RF-1..RF-5, RF-3 derived) -------------------------------------------------


@pytest.mark.parametrize(
    ("sign", "category"),
    [
        ("urinary_retention", rules.RF_1),
        ("incontinence", rules.RF_1),
        ("bilateral_leg_weakness", rules.RF_1),
        ("saddle_anesthesia", rules.RF_1),
        ("progressive_motor_deficit", rules.RF_2),
        ("history_of_cancer", rules.RF_3),
        ("unexplained_weight_loss", rules.RF_3),
        ("age_over_50_new_onset", rules.RF_3),
        ("fever", rules.RF_4),
        ("iv_drug_use", rules.RF_4),
        ("immunosuppression", rules.RF_4),
        ("significant_trauma", rules.RF_5),
        ("osteoporosis", rules.RF_5),
        ("prolonged_corticosteroids", rules.RF_5),
    ],
)
def test_red_flag_catalogue(sign: str, category: str) -> None:
    assert category_of(sign) == category


def test_unknown_sign_is_not_in_catalogue() -> None:
    with pytest.raises(ValueError, match="not a valid Sign"):
        category_of("headache")


@pytest.mark.parametrize(
    ("birth_date", "new_onset", "expected"),
    [
        (date(1975, 1, 1), True, {Sign.AGE_OVER_50_NEW_ONSET}),  # 51 at onset
        # RF-3 "older than 50": from the day after the 50th birthday, not from the 51st.
        (date(1976, 1, 1), True, {Sign.AGE_OVER_50_NEW_ONSET}),  # 50 years and 9 months
        (date(1976, 9, 30), True, {Sign.AGE_OVER_50_NEW_ONSET}),  # 50 years and a day
        (date(1976, 10, 1), True, set()),  # the 50th birthday itself: not older than 50
        (date(1976, 10, 2), True, set()),  # 49 years old
        (date(1975, 1, 1), False, set()),  # not new-onset pain
        (None, True, set()),  # no birth date known
    ],
)
def test_rf3_age_over_50_new_onset_is_derived(
    birth_date: date | None, *, new_onset: bool, expected: set
) -> None:
    onset = date(2026, 10, 1)
    assert derived_signs(birth_date=birth_date, symptom_onset=onset, new_onset_pain=new_onset) == (
        expected
    )


def test_escalate_needs_an_active_red_flag() -> None:
    assert rule_ids(evaluate(TransitionName.ESCALATE, facts(), START)) == {rules.RF}
    assert evaluate(TransitionName.ESCALATE, facts(active_red_flags=(FLAG,)), START) == []


def test_clear_escalation_needs_every_flag_ruled_out() -> None:
    refused = evaluate(TransitionName.CLEAR_ESCALATION, facts(active_red_flags=(FLAG,)), START)
    assert rule_ids(refused) == {rules.RF}
    assert "saddle_anesthesia (RF-1 cauda equina syndrome)" in refused[0].message
    assert evaluate(TransitionName.CLEAR_ESCALATION, facts(), START) == []


# --- CC-1 / IM-1 / IM-2 -------------------------------------------------------------------


def test_imaging_refused_on_day_41_with_cc1_and_im2_and_the_opening_date() -> None:
    ready = facts(conservative_therapy_failed=True, candidate_for_esi=True)
    reasons = evaluate(
        TransitionName.CONFIRM_IMAGING_ELIGIBILITY, ready, START + timedelta(days=41)
    )
    assert rule_ids(reasons) == {rules.CC_1, rules.IM_2}
    cc1 = next(r for r in reasons if r.rule == rules.CC_1)
    assert cc1.message == (
        "imaging needs 42 days of conservative care; this episode has 41 days: "
        "eligible on 2026-12-07"
    )
    assert cc1.opens_on == date(2026, 12, 7)


def test_imaging_allowed_on_day_42() -> None:
    ready = facts(conservative_therapy_failed=True, candidate_for_surgery=True)
    day_42 = START + timedelta(days=42)
    assert evaluate(TransitionName.CONFIRM_IMAGING_ELIGIBILITY, ready, day_42) == []


@pytest.mark.parametrize(
    "missing",
    [
        {"conservative_therapy_failed": False},
        {"candidate_for_esi": False, "candidate_for_surgery": False},
    ],
)
def test_im1_needs_failed_therapy_in_a_candidate(missing: dict) -> None:
    ready = facts(conservative_therapy_failed=True, candidate_for_esi=True)
    day_50 = START + timedelta(days=50)
    assert rule_ids(
        evaluate(TransitionName.CONFIRM_IMAGING_ELIGIBILITY, replace(ready, **missing), day_50)
    ) == {rules.IM_1}


def test_urg1_red_flag_waives_imaging_gates() -> None:
    day_5 = START + timedelta(days=5)
    assert evaluate(TransitionName.CONFIRM_IMAGING_ELIGIBILITY, facts(), day_5) != []
    flagged = facts(active_red_flags=(FLAG,))
    assert evaluate(TransitionName.CONFIRM_IMAGING_ELIGIBILITY, flagged, day_5) == []


def test_im3_uncorrelated_imaging_asks_for_correlation() -> None:
    uncorrelated = replace(COMPRESSION, clinically_correlated=False)
    day = START + timedelta(days=50)
    with_uncorrelated = next_actions(State.ESI, facts(imaging=(uncorrelated,)), day)
    assert rules.IM_3 in {a.rule for a in with_uncorrelated}
    with_correlated = next_actions(State.ESI, facts(imaging=(COMPRESSION,)), day)
    assert rules.IM_3 not in {a.rule for a in with_correlated}


# --- ESI-1 / ESI-2 / ESI-3 ----------------------------------------------------------------


def esi_ready(**overrides: object) -> Facts:
    return facts(**{"radicular_pain": True, "conservative_therapy_failed": True, **overrides})


def test_esi_allowed_after_42_days_fluoroscopic_consented_radicular() -> None:
    assert (
        evaluate(TransitionName.SCHEDULE_ESI, esi_ready(), START + timedelta(days=42), GOOD_ESI)
        == []
    )


@pytest.mark.parametrize(
    ("fact_overrides", "data_overrides", "day", "rule"),
    [
        ({}, {}, 41, rules.ESI_1),
        ({"conservative_therapy_failed": False}, {}, 50, rules.ESI_1),
        ({}, {"patient_consented": False}, 50, rules.ESI_1),
        ({}, {"guidance": "blind"}, 50, rules.ESI_2),
        ({}, {"approach": "caudal"}, 50, rules.ESI_2),
        ({"radicular_pain": False}, {}, 50, rules.ESI_3),
    ],
)
def test_esi_refusals(fact_overrides: dict, data_overrides: dict, day: int, rule: str) -> None:
    reasons = evaluate(
        TransitionName.SCHEDULE_ESI,
        esi_ready(**fact_overrides),
        START + timedelta(days=day),
        {**GOOD_ESI, **data_overrides},
    )
    assert rule_ids(reasons) == {rule}


def test_esi_rules_are_never_waived_by_a_red_flag() -> None:
    reasons = evaluate(
        TransitionName.SCHEDULE_ESI,
        esi_ready(active_red_flags=(FLAG,)),
        START + timedelta(days=5),
        {**GOOD_ESI, "guidance": "blind"},
    )
    assert rule_ids(reasons) == {rules.ESI_1, rules.ESI_2}


def test_esi_preview_without_a_body_checks_only_facts() -> None:
    day_50 = START + timedelta(days=50)
    assert evaluate(TransitionName.SCHEDULE_ESI, esi_ready(), day_50) == []
    assert rule_ids(evaluate(TransitionName.SCHEDULE_ESI, facts(), day_50)) == {
        rules.ESI_1,
        rules.ESI_3,
    }


# --- SX-1 / SX-2 / SX-3 (begin_surgical_review) and URG-1 -----------------------------------


def test_surgical_review_allowed_when_elective_conditions_hold() -> None:
    ready = facts(**ELECTIVE_SURGICAL)
    assert evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, ready, START + timedelta(days=43)) == []


@pytest.mark.parametrize(
    ("overrides", "day", "rule"),
    [
        ({"radicular_pain": False}, 60, rules.SX_1),
        ({"conservative_therapy_failed": False}, 60, rules.SX_1),
        ({"imaging": ()}, 60, rules.SX_1),
        ({"function_significantly_limited": False}, 60, rules.SX_1),
        ({}, 42, rules.SX_1),  # "more than 42 days": day 42 is not enough
        ({"biopsychosocial_assessment_done": False}, 60, rules.SX_2),
        ({"imaging": (replace(COMPRESSION, clinically_correlated=False),)}, 60, rules.SX_3),
    ],
)
def test_surgical_review_refusals(overrides: dict, day: int, rule: str) -> None:
    reasons = evaluate(
        TransitionName.BEGIN_SURGICAL_REVIEW,
        facts(**{**ELECTIVE_SURGICAL, **overrides}),
        START + timedelta(days=day),
    )
    assert rule_ids(reasons) == {rule}


def test_cc1_surgical_review_needs_42_days_of_conservative_care() -> None:
    """The seed's CC-1 covers interventional procedures: surgery counts from care start."""
    late_start = facts(**ELECTIVE_SURGICAL, conservative_care_start=START + timedelta(days=30))
    reasons = evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, late_start, START + timedelta(days=60))
    assert rule_ids(reasons) == {rules.CC_1}
    assert reasons[0].opens_on == START + timedelta(days=72)
    assert (
        evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, late_start, START + timedelta(days=72)) == []
    )
    flagged = replace(late_start, active_red_flags=(FLAG,))
    assert evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, flagged, START + timedelta(days=60)) == []


def test_urg1_waives_elective_surgical_gates_but_not_imaging_or_correlation() -> None:
    day_5 = START + timedelta(days=5)
    cauda_equina = facts(radicular_pain=True, imaging=(COMPRESSION,), active_red_flags=(FLAG,))
    assert evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, cauda_equina, day_5) == []
    without_flag = replace(cauda_equina, active_red_flags=())
    assert rule_ids(evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, without_flag, day_5)) == {
        rules.CC_1,
        rules.SX_1,
        rules.SX_2,
    }
    no_imaging = replace(cauda_equina, imaging=())
    assert rule_ids(evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, no_imaging, day_5)) == {
        rules.SX_1
    }
    uncorrelated = replace(
        cauda_equina, imaging=(replace(COMPRESSION, clinically_correlated=False),)
    )
    assert rule_ids(evaluate(TransitionName.BEGIN_SURGICAL_REVIEW, uncorrelated, day_5)) == {
        rules.SX_3
    }


# --- SX-4 / SX-5 (plan_surgery) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"procedure": "discectomy", "technique": "microtubular"}, None),
        ({"procedure": "discectomy"}, rules.SX_4),
        ({"procedure": "laminectomy"}, rules.SX_4),
        ({"procedure": "fusion"}, rules.SX_5),
        ({"procedure": "fusion", "fusion_indication": "because"}, rules.SX_5),
        ({"procedure": "fusion", "fusion_indication": "instability"}, None),
        ({"procedure": "fusion", "fusion_indication": "manual_laborer"}, None),
    ],
)
def test_plan_surgery(data: dict, rule: str | None) -> None:
    reasons = evaluate(TransitionName.PLAN_SURGERY, facts(active_red_flags=(FLAG,)), START, data)
    assert rule_ids(reasons) == ({rule} if rule else set())


# --- RX-1 -----------------------------------------------------------------------------------


def test_rx1_refractory_needs_radicular_pain() -> None:
    assert rule_ids(evaluate(TransitionName.DECLARE_REFRACTORY, facts(), START)) == {rules.RX_1}
    assert evaluate(TransitionName.DECLARE_REFRACTORY, facts(radicular_pain=True), START) == []


# --- REF-1 / REF-2 / REF-3 and red flags ------------------------------------------------------


def test_ref1_three_months_after_onset() -> None:
    due = referral_deadline(facts(symptom_onset=date(2026, 11, 30)))
    assert (due.due, due.rule) == (date(2027, 2, 28), rules.REF_1)


def test_ref2_disabling_pain_within_14_days() -> None:
    recorded = date(2026, 11, 2)
    deadline = referral_deadline(facts(disabling_pain=True, disabling_pain_recorded_on=recorded))
    assert (deadline.due, deadline.rule) == (date(2026, 11, 16), rules.REF_2)
    not_disabling = referral_deadline(
        facts(disabling_pain=False, disabling_pain_recorded_on=recorded)
    )
    assert not_disabling.rule == rules.REF_1


def test_ref3_neurological_deficit_immediately() -> None:
    recorded = date(2026, 11, 2)
    deadline = referral_deadline(
        facts(
            disabling_pain=True,
            disabling_pain_recorded_on=recorded,
            neurological_deficit=True,
            neurological_deficit_recorded_on=recorded,
        )
    )
    assert (deadline.due, deadline.rule) == (recorded, rules.REF_3)
    assert referral_deadline(facts(neurological_deficit=False)).rule == rules.REF_1


def test_red_flag_makes_referral_due_immediately() -> None:
    deadline = referral_deadline(facts(active_red_flags=(FLAG,)))
    assert (deadline.due, deadline.rule) == (FLAG.raised_on, rules.RF_1)


def test_referral_deadline_is_met_by_the_referral() -> None:
    assert referral_deadline(facts(referral_made_on=START)) is None
    assert deadlines(State.SPECIALIST_REFERRAL, facts()) == []
    due = deadlines(State.CONSERVATIVE_CARE, facts())
    assert [(d.kind, d.rule) for d in due] == [
        ("reassessment", rules.CC_1),
        ("specialist_referral", rules.REF_1),
    ]
    assert due[1].overdue(add_months(START, 3) + timedelta(days=1))
    assert not due[1].overdue(add_months(START, 3))


# --- milestones and next actions -------------------------------------------------------------


def test_milestones_and_their_anchors() -> None:
    f = facts(symptom_onset=date(2026, 11, 30), conservative_care_start=date(2026, 12, 2))
    assert [(m.milestone.value, m.on, m.anchor) for m in milestones(f)] == [
        ("2_weeks", date(2026, 12, 14), "symptom_onset"),
        ("6_weeks", date(2027, 1, 13), "conservative_care_start"),
        ("3_months", date(2027, 2, 28), "symptom_onset"),
    ]


def test_cc2_education_is_the_first_next_action_until_recorded() -> None:
    actions = next_actions(State.CONSERVATIVE_CARE, facts(), START)
    assert (actions[0].action, actions[0].rule) == ("educate_patient", rules.CC_2)
    after = next_actions(State.CONSERVATIVE_CARE, facts(education_recorded=True), START)
    assert rules.CC_2 not in {a.rule for a in after}


def test_terminal_states_have_no_next_actions() -> None:
    assert next_actions(State.RESOLVED, facts(), START) == []


# --- CC-3, CC-4, RFA-1, RFA-2 plan flags ------------------------------------------------------


@pytest.mark.parametrize("drug", ["nortriptyline", "pregabalin", "topiramate", "morphine"])
def test_cc3_negative_trial_drugs_flagged(drug: str) -> None:
    assert rule_ids(plan_item_flags(drug, ended_on=None)) == {rules.CC_3}


def test_cc3_first_line_drugs_not_flagged_and_opioid_needs_end_date() -> None:
    assert plan_item_flags("nsaid", ended_on=None) == []
    assert rule_ids(plan_item_flags("opioid_short_term", ended_on=None)) == {rules.CC_3}
    assert plan_item_flags("opioid_short_term", ended_on=START) == []


def test_rfa1_needs_positive_medial_branch_block() -> None:
    assert rule_ids(plan_item_flags("radiofrequency_ablation", ended_on=None)) == {rules.RFA_1}
    assert (
        plan_item_flags("radiofrequency_ablation", ended_on=None, positive_medial_branch_block=True)
        == []
    )


def test_cc4_and_rfa2_items_carry_their_evidence() -> None:
    assert CATALOGUE["mckenzie"].rule == rules.CC_4
    assert "Level B" in CATALOGUE["mckenzie"].evidence
    assert CATALOGUE["pulsed_radiofrequency_drg"].rule == rules.RFA_2
    assert plan_item_flags("pulsed_radiofrequency_drg", ended_on=None) == []
    with pytest.raises(KeyError):
        plan_item_flags("acupuncture", ended_on=None)


def test_checkin_resolved_asks_the_team_to_confirm() -> None:
    reported = facts(resolution_reported_on=START + timedelta(days=20))
    actions = next_actions(State.CONSERVATIVE_CARE, reported, START + timedelta(days=21))
    assert ("confirm_resolution", rules.CHECKIN) in {(a.action, a.rule) for a in actions}
    plain = next_actions(State.CONSERVATIVE_CARE, facts(), START + timedelta(days=21))
    assert "confirm_resolution" not in {a.action for a in plain}


def test_checkin_symptoms_map_to_red_flag_signs() -> None:
    from careflow.checkin import signs_for  # noqa: PLC0415

    assert signs_for(["saddle_numbness"]) == [Sign.SADDLE_ANESTHESIA]
    assert signs_for(["bladder_or_bowel_problems", "fever"]) == [
        Sign.URINARY_RETENTION,
        Sign.INCONTINENCE,
        Sign.FEVER,
    ]
    assert signs_for(["worsening_leg_weakness"]) == [Sign.PROGRESSIVE_MOTOR_DEFICIT]
    assert signs_for([]) == []


def test_urg1_an_active_red_flag_makes_imaging_urgent() -> None:
    flagged = next_actions(State.URGENT_ESCALATION, facts(active_red_flags=(FLAG,)), START)
    assert ("urgent_imaging", FLAG.raised_on, rules.URG_1) in {
        (a.action, a.due, a.rule) for a in flagged
    }
    plain = next_actions(State.CONSERVATIVE_CARE, facts(), START)
    assert rules.URG_1 not in {a.rule for a in plain}
