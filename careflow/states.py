"""The pathway's states and transitions (PATHWAY.md "States" and "Transitions")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class State(StrEnum):
    CONSERVATIVE_CARE = "conservative_care"
    URGENT_ESCALATION = "urgent_escalation"
    IMAGING_ELIGIBLE = "imaging_eligible"
    ESI = "esi"
    SPECIALIST_REFERRAL = "specialist_referral"
    SURGICAL_REVIEW = "surgical_review"
    SURGERY = "surgery"
    REFRACTORY = "refractory"
    RESOLVED = "resolved"
    CLOSED = "closed"


TERMINAL_STATES: Final = frozenset({State.RESOLVED, State.CLOSED})
NON_TERMINAL_STATES: Final = frozenset(s for s in State if s not in TERMINAL_STATES)

# A red flag raised in one of these states escalates the episode; in the later states
# (surgical review, surgery, refractory) the patient is already under specialist care
# and keeps its state, but still heads the urgent queue until the next transition.
ESCALATING_STATES: Final = frozenset(
    {State.CONSERVATIVE_CARE, State.IMAGING_ELIGIBLE, State.ESI, State.SPECIALIST_REFERRAL}
)
# States in which the referral deadline (REF-*) is still to be met.
PRE_REFERRAL_STATES: Final = frozenset(
    {State.CONSERVATIVE_CARE, State.URGENT_ESCALATION, State.IMAGING_ELIGIBLE, State.ESI}
)


class TransitionName(StrEnum):
    ESCALATE = "escalate"
    CLEAR_ESCALATION = "clear_escalation"
    CONFIRM_IMAGING_ELIGIBILITY = "confirm_imaging_eligibility"
    SCHEDULE_ESI = "schedule_esi"
    REFER_TO_SPECIALIST = "refer_to_specialist"
    BEGIN_SURGICAL_REVIEW = "begin_surgical_review"
    DECLINE_SURGERY = "decline_surgery"
    PLAN_SURGERY = "plan_surgery"
    DECLARE_REFRACTORY = "declare_refractory"
    RESOLVE = "resolve"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    name: TransitionName
    sources: frozenset[State]
    target: State
    clinician_only: bool = False
    # Where the transition goes instead once a referral has been made in the episode
    # (``clear_escalation``: back to specialist care, not to a REF-1 clock already met).
    target_after_referral: State | None = None

    @property
    def targets(self) -> tuple[State, ...]:
        """Every state the transition can reach, the usual one first."""
        after = self.target_after_referral
        return (self.target,) if after is None else (self.target, after)

    def target_for(self, *, referral_made: bool) -> State:
        """The state this episode reaches: ``referral_made`` when it has been referred."""
        if referral_made and self.target_after_referral is not None:
            return self.target_after_referral
        return self.target


def _spec(
    name: TransitionName,
    sources: set[State],
    target: State,
    *,
    clinician_only: bool = False,
    target_after_referral: State | None = None,
) -> TransitionSpec:
    return TransitionSpec(name, frozenset(sources), target, clinician_only, target_after_referral)


S = State
T = TransitionName
TRANSITIONS: Final[dict[TransitionName, TransitionSpec]] = {
    spec.name: spec
    for spec in (
        _spec(
            T.ESCALATE,
            {S.CONSERVATIVE_CARE, S.IMAGING_ELIGIBLE, S.ESI, S.SPECIALIST_REFERRAL},
            S.URGENT_ESCALATION,
        ),
        _spec(
            T.CLEAR_ESCALATION,
            {S.URGENT_ESCALATION},
            S.CONSERVATIVE_CARE,
            clinician_only=True,
            target_after_referral=S.SPECIALIST_REFERRAL,
        ),
        _spec(T.CONFIRM_IMAGING_ELIGIBILITY, {S.CONSERVATIVE_CARE}, S.IMAGING_ELIGIBLE),
        _spec(T.SCHEDULE_ESI, {S.IMAGING_ELIGIBLE}, S.ESI),
        _spec(
            T.REFER_TO_SPECIALIST,
            {S.CONSERVATIVE_CARE, S.URGENT_ESCALATION, S.IMAGING_ELIGIBLE, S.ESI},
            S.SPECIALIST_REFERRAL,
        ),
        _spec(
            T.BEGIN_SURGICAL_REVIEW,
            {S.SPECIALIST_REFERRAL},
            S.SURGICAL_REVIEW,
            clinician_only=True,
        ),
        _spec(T.DECLINE_SURGERY, {S.SURGICAL_REVIEW}, S.SPECIALIST_REFERRAL),
        _spec(T.PLAN_SURGERY, {S.SURGICAL_REVIEW}, S.SURGERY, clinician_only=True),
        _spec(T.DECLARE_REFRACTORY, {S.SURGERY}, S.REFRACTORY),
        _spec(T.RESOLVE, set(NON_TERMINAL_STATES), S.RESOLVED),
        _spec(T.CLOSE, set(NON_TERMINAL_STATES), S.CLOSED),
    )
}
del S, T


def transitions_from(state: State) -> list[TransitionSpec]:
    return [spec for spec in TRANSITIONS.values() if state in spec.sources]
