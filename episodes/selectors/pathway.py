"""The pathway as the guards see it: facts, the patient's today, next actions, transitions."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from careflow.deadlines import deadlines, next_actions
from careflow.facts import BOOLEAN_FACTS, Facts, ImagingFinding
from careflow.guards import evaluate
from careflow.redflags import RedFlag as RedFlagFact
from careflow.states import State, transitions_from
from episodes.models import (
    Episode,
    Patient,
    RedFlagStatus,
)


def patient_today(patient: Patient) -> date:
    """Dates are the patient's local calendar dates (PATHWAY.md "Day arithmetic")."""
    return timezone.now().astimezone(ZoneInfo(patient.timezone)).date()


def episode_facts(episode: Episode) -> Facts:
    """The facts the guards evaluate, built from the episode and its rows.

    Uses the prefetched ``red_flags`` and ``imaging`` when present (list pages), and two
    small queries otherwise.
    """
    flags = [f for f in episode.red_flags.all() if f.status == RedFlagStatus.ACTIVE]
    current = episode.facts or {}
    return Facts(
        symptom_onset=episode.symptom_onset,
        conservative_care_start=episode.conservative_care_start,
        birth_date=episode.patient.birth_date,
        **{name: bool(current.get(name, False)) for name in BOOLEAN_FACTS},
        disabling_pain_recorded_on=episode.disabling_pain_recorded_on,
        neurological_deficit_recorded_on=episode.neurological_deficit_recorded_on,
        active_red_flags=tuple(RedFlagFact(sign=f.sign, raised_on=f.raised_on) for f in flags),
        imaging=tuple(
            ImagingFinding(
                modality=s.modality,
                performed_on=s.performed_on,
                nerve_root_compression=s.nerve_root_compression,
                clinically_correlated=s.clinically_correlated,
                level=s.level,
            )
            for s in episode.imaging.all()
        ),
        referral_made_on=episode.referral_made_on,
        education_recorded=episode.education_recorded,
        last_assessment_on=episode.last_assessment_on,
        enrolled_on=episode.enrolled_on,
        resolution_reported_on=episode.resolution_reported_on,
        surgical_review_urgent=episode.surgical_review_urgent,
    )


def episode_pathway_view(episode: Episode, today: date | None = None) -> dict[str, Any]:
    """Deadlines, next actions and available transitions, all computed by careflow."""
    facts = episode_facts(episode)
    today = today or patient_today(episode.patient)
    state = State(episode.state)
    return {
        "facts": {name: getattr(facts, name) for name in BOOLEAN_FACTS},
        "days_since_onset": facts.days_since_onset(today),
        "days_of_conservative_care": facts.days_of_conservative_care(today),
        "deadlines": [d.as_dict(today) for d in deadlines(state, facts)],
        "next_actions": [a.as_dict() for a in next_actions(state, facts, today)],
        "available_transitions": [
            {
                "name": spec.name.value,
                "target": spec.target.value,
                "clinician_only": spec.clinician_only,
                "allowed": not (reasons := evaluate(spec.name, facts, today)),
                "reasons": [r.as_dict() for r in reasons],
            }
            for spec in transitions_from(state)
        ],
    }


def episode_next_action(episode: Episode, today: date | None = None) -> dict[str, str] | None:
    """The most pressing next action (careflow's order), for queue summaries."""
    today = today or patient_today(episode.patient)
    actions = next_actions(State(episode.state), episode_facts(episode), today)
    return actions[0].as_dict() if actions else None
