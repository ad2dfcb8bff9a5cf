"""Referral deadline (REF-1, REF-2, REF-3, red flags), milestones, and next actions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Final

from careflow import rules
from careflow.dates import SIX_WEEKS, TWO_WEEKS, three_months_after
from careflow.facts import Facts
from careflow.guards import evaluate
from careflow.states import PRE_REFERRAL_STATES, State, TransitionName


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    due: date
    rule: str

    def overdue(self, today: date) -> bool:
        return today > self.due

    def as_dict(self, today: date) -> dict[str, object]:
        return {
            "kind": self.kind,
            "due": self.due.isoformat(),
            "rule": self.rule,
            "overdue": self.overdue(today),
        }


SPECIALIST_REFERRAL: Final = "specialist_referral"
REASSESSMENT: Final = "reassessment"


def referral_candidates(facts: Facts) -> list[Deadline]:
    """Every referral deadline that applies, earliest first (ties: the stricter rule)."""
    found = [Deadline(SPECIALIST_REFERRAL, three_months_after(facts.symptom_onset), rules.REF_1)]
    if facts.disabling_pain and facts.disabling_pain_recorded_on is not None:
        found.append(
            Deadline(SPECIALIST_REFERRAL, facts.disabling_pain_recorded_on + TWO_WEEKS, rules.REF_2)
        )
    if facts.neurological_deficit and facts.neurological_deficit_recorded_on is not None:
        found.append(
            Deadline(SPECIALIST_REFERRAL, facts.neurological_deficit_recorded_on, rules.REF_3)
        )
    found.extend(
        Deadline(SPECIALIST_REFERRAL, flag.raised_on, flag.category)
        for flag in facts.active_red_flags
    )
    order = {rules.REF_1: 3, rules.REF_2: 2, rules.REF_3: 1}
    return sorted(found, key=lambda d: (d.due, order.get(d.rule, 0)))


def referral_deadline(facts: Facts) -> Deadline | None:
    """The earliest applicable referral deadline, or ``None`` once the referral is made.

    A red flag raised after the referral (the episode escalates from
    ``specialist_referral``) sets a new one: due the day it was raised, met by the urgent
    referral that follows (PATHWAY.md "Urgency is never lowered silently"). "After" is
    between moments: a flag raised before a same-day referral was met by it.
    """
    if facts.referral_made_on is None:
        return referral_candidates(facts)[0]
    later = [
        Deadline(SPECIALIST_REFERRAL, flag.raised_on, flag.category)
        for flag in facts.active_red_flags
        if facts.raised_after_referral(flag)
    ]
    return min(later, key=lambda d: d.due) if later else None


def deadlines(state: State, facts: Facts) -> list[Deadline]:
    """The episode's open deadlines (what the API shows and the queues sort by)."""
    out: list[Deadline] = []
    if state in PRE_REFERRAL_STATES:
        ref = referral_deadline(facts)
        if ref is not None:
            out.append(ref)
    if state == State.CONSERVATIVE_CARE and not _reassessed_after_six_weeks(facts):
        out.append(Deadline(REASSESSMENT, facts.conservative_care_start + SIX_WEEKS, rules.CC_1))
    return sorted(out, key=lambda d: d.due)


def _reassessed_after_six_weeks(facts: Facts) -> bool:
    six_weeks = facts.conservative_care_start + SIX_WEEKS
    return facts.last_assessment_on is not None and facts.last_assessment_on >= six_weeks


class Milestone(StrEnum):
    TWO_WEEKS = "2_weeks"
    SIX_WEEKS = "6_weeks"
    THREE_MONTHS = "3_months"


@dataclass(frozen=True, slots=True)
class MilestoneDate:
    milestone: Milestone
    on: date
    anchor: str  # the fact the milestone counts from
    rule: str


def milestones(facts: Facts) -> list[MilestoneDate]:
    """PATHWAY.md "Milestones": 2 weeks and 3 months from onset, 6 weeks from care start."""
    return [
        MilestoneDate(
            Milestone.TWO_WEEKS, facts.symptom_onset + TWO_WEEKS, "symptom_onset", rules.REF_2
        ),
        MilestoneDate(
            Milestone.SIX_WEEKS,
            facts.conservative_care_start + SIX_WEEKS,
            "conservative_care_start",
            rules.CC_1,
        ),
        MilestoneDate(
            Milestone.THREE_MONTHS,
            three_months_after(facts.symptom_onset),
            "symptom_onset",
            rules.REF_1,
        ),
    ]


@dataclass(frozen=True, slots=True)
class NextAction:
    action: str
    due: date
    rule: str
    # One of the urgent actions of PATHWAY.md "Next actions" (set by ``next_actions``).
    urgent: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "due": self.due.isoformat(), "rule": self.rule}


# The urgent actions (PATHWAY.md "Next actions"): while a red flag is active they come
# before every routine one, whatever their dates; a patient's unreviewed red-flag report
# is always urgent (it exists only because a red-flag symptom was reported).
URGENT_IMAGING: Final = "urgent_imaging"
REFER_TO_SPECIALIST: Final = "refer_to_specialist"
REVIEW_PATIENT_REPORT: Final = "review_patient_report"


def next_actions(state: State, facts: Facts, today: date) -> list[NextAction]:
    """What the care team should do next, most pressing first (PATHWAY.md "Next actions").

    Urgent actions first (urgent imaging and referral while a red flag is active, URG-1;
    a patient's red-flag report to review), then overdue before due, then by date. A
    closed episode has one action left: a red-flag report made after it ended.
    """
    actions = _report_actions(facts)
    if state not in (State.RESOLVED, State.CLOSED):
        actions += _patient_actions(facts) + _referral_actions(state, facts)
        actions += _clinical_actions(state, facts, today)
    marked = [replace(a, urgent=_is_urgent(a, facts)) for a in actions]
    return sorted(marked, key=lambda a: (not a.urgent, a.due >= today, a.due))


def _is_urgent(action: NextAction, facts: Facts) -> bool:
    return action.action == REVIEW_PATIENT_REPORT or (
        facts.has_active_red_flag and action.action in (URGENT_IMAGING, REFER_TO_SPECIALIST)
    )


def _report_actions(facts: Facts) -> list[NextAction]:
    """``review_patient_report``: met by a clinician's assessment recorded after the report."""
    if facts.unreviewed_report_on is None:
        return []
    return [
        NextAction(REVIEW_PATIENT_REPORT, facts.unreviewed_report_on, facts.unreviewed_report_rule)
    ]


def _patient_actions(facts: Facts) -> list[NextAction]:
    actions: list[NextAction] = []
    if facts.resolution_reported_on is not None:
        # "resolved" in a check-in asks the care team to confirm; it resolves nothing itself.
        actions.append(
            NextAction("confirm_resolution", facts.resolution_reported_on, rules.CHECKIN)
        )
    if not facts.education_recorded:
        # CC-2 is the first next action of every new episode.
        enrolled = facts.enrolled_on or facts.conservative_care_start
        actions.append(NextAction("educate_patient", enrolled, rules.CC_2))
    return actions


def _referral_actions(state: State, facts: Facts) -> list[NextAction]:
    if state not in PRE_REFERRAL_STATES:
        return []
    actions: list[NextAction] = []
    if facts.has_active_red_flag:
        raised = min(flag.raised_on for flag in facts.active_red_flags)
        actions.append(NextAction(URGENT_IMAGING, raised, rules.URG_1))
    ref = referral_deadline(facts)
    if ref is not None:
        actions.append(NextAction(REFER_TO_SPECIALIST, ref.due, ref.rule))
    return actions


def _clinical_actions(state: State, facts: Facts, today: date) -> list[NextAction]:
    actions: list[NextAction] = []
    if state == State.CONSERVATIVE_CARE and not _reassessed_after_six_weeks(facts):
        actions.append(
            NextAction("reassess", facts.conservative_care_start + SIX_WEEKS, rules.CC_1)
        )
    if state == State.IMAGING_ELIGIBLE:
        actions.append(NextAction("order_mri", today, rules.IM_1))
    if any(s.nerve_root_compression and not s.clinically_correlated for s in facts.imaging):
        actions.append(NextAction("correlate_imaging", today, rules.IM_3))
    if (
        state in (State.SPECIALIST_REFERRAL, State.SURGICAL_REVIEW)
        and facts.candidate_for_surgery
        and not facts.biopsychosocial_assessment_done
    ):
        actions.append(NextAction("biopsychosocial_assessment", today, rules.SX_2))
    if state == State.REFRACTORY:
        actions.append(NextAction("refer_spinal_cord_stimulation_centre", today, rules.RX_1))
    actions.extend(_review_state_actions(state, facts, today))
    return actions


# The transition whose guard admitted each state: when its facts stop holding, the state is
# kept and the care team is asked to review it (PATHWAY.md "Facts change over time").
ADMITTED_BY: Final[dict[State, TransitionName]] = {
    State.IMAGING_ELIGIBLE: TransitionName.CONFIRM_IMAGING_ELIGIBILITY,
    State.ESI: TransitionName.SCHEDULE_ESI,
    State.SURGICAL_REVIEW: TransitionName.BEGIN_SURGICAL_REVIEW,
}


def _review_state_actions(state: State, facts: Facts, today: date) -> list[NextAction]:
    admitted_by = ADMITTED_BY.get(state)
    if admitted_by is None:
        return []
    # Evaluated without a body: only the facts and dates, not what a client would send.
    failing = evaluate(admitted_by, facts, today)
    return [NextAction("review_state", today, failing[0].rule)] if failing else []
