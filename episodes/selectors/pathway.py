"""The pathway as the guards see it: facts, the patient's today, next actions, transitions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from careflow.adherence import Interval, imaging_warnings
from careflow.deadlines import deadlines, next_actions
from careflow.facts import BOOLEAN_FACTS, Facts, ImagingFinding
from careflow.guards import Reason, evaluate
from careflow.redflags import RedFlag as RedFlagFact
from careflow.states import State, transitions_from
from episodes.models import (
    Episode,
    Patient,
    RedFlag,
    RedFlagStatus,
)


def patient_today(patient: Patient) -> date:
    """Dates are the patient's local calendar dates (PATHWAY.md "Day arithmetic")."""
    return timezone.now().astimezone(ZoneInfo(patient.timezone)).date()


def local_date(moment: datetime | None, zone: str) -> date | None:
    """The patient-local date of a moment (None stays None)."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).date()


def _column_facts(episode: Episode) -> dict[str, Any]:
    """The facts the episode's own columns (and its patient's birth date and zone) hold."""
    current = episode.facts or {}
    return {
        "symptom_onset": episode.symptom_onset,
        "conservative_care_start": episode.conservative_care_start,
        "birth_date": episode.patient.birth_date,
        **{name: bool(current.get(name, False)) for name in BOOLEAN_FACTS},
        "disabling_pain_recorded_on": episode.disabling_pain_recorded_on,
        "neurological_deficit_recorded_on": episode.neurological_deficit_recorded_on,
        "referral_made_on": episode.referral_made_on,
        "referral_made_at": episode.referral_made_at,
        "education_recorded": episode.education_recorded,
        "last_assessment_on": episode.last_assessment_on,
        "enrolled_on": episode.enrolled_on,
        "resolution_reported_on": episode.resolution_reported_on,
        "surgical_review_urgent": episode.surgical_review_urgent,
        "unreviewed_report_on": local_date(episode.report_review_since, episode.patient.timezone),
        "unreviewed_report_rule": episode.report_review_rule,
    }


def episode_facts(episode: Episode) -> Facts:
    """The facts the guards evaluate, built from the episode and its rows.

    Uses the prefetched ``red_flags`` and ``imaging`` when present (list pages, a
    transition's lock), and two small queries otherwise.
    """
    flags = [f for f in episode.red_flags.all() if f.status == RedFlagStatus.ACTIVE]
    return Facts(
        **_column_facts(episode),
        active_red_flags=tuple(
            RedFlagFact(sign=f.sign, raised_on=f.raised_on, raised_at=f.raised_at) for f in flags
        ),
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
    )


def facts_refresh(facts: Facts, episode: Episode) -> Facts:
    """``facts`` after a write changed the episode's columns in memory; no query.

    A write reads its facts once (``episode_facts``, after the lock) and carries them
    along: the rows it adds it adds to the facts itself (a raised flag: ``facts_with_flag``),
    and what its effects changed in the episode's columns is taken from the episode here.
    """
    return replace(facts, **_column_facts(episode))


def facts_with_flag(facts: Facts, flag: RedFlag) -> Facts:
    """``facts`` with a red flag just raised; no query.

    The newest flag (raised now, the highest id) is the last in the (raised_at, id) order
    ``episode_facts`` reads them in.
    """
    raised = RedFlagFact(sign=flag.sign, raised_on=flag.raised_on, raised_at=flag.raised_at)
    return replace(facts, active_red_flags=(*facts.active_red_flags, raised))


def episode_pathway_view(episode: Episode, today: date | None = None) -> dict[str, Any]:
    """Deadlines, next actions and available transitions, all computed by careflow."""
    facts = episode_facts(episode)
    today = today or patient_today(episode.patient)
    state = State(episode.state)
    referral_made = facts.referral_made_on is not None
    return {
        "facts": {name: getattr(facts, name) for name in BOOLEAN_FACTS},
        "days_since_onset": facts.days_since_onset(today),
        "days_of_conservative_care": facts.days_of_conservative_care(today),
        "deadlines": [d.as_dict(today) for d in deadlines(state, facts)],
        "next_actions": [a.as_dict() for a in next_actions(state, facts, today)],
        "available_transitions": [
            {
                "name": spec.name.value,
                "target": spec.target_for(referral_made=referral_made).value,
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


def imaging_warnings_for(episode: Episode, performed_on: date) -> list[Reason]:
    """What a study on ``performed_on`` tells the care team (IM-2), never a refusal.

    A flag counts on the days it was active, raised to ruled out (patient-local dates), as
    in the adherence report. Reads the prefetched ``red_flags`` when present.
    """
    zone = episode.patient.timezone
    return imaging_warnings(
        performed_on,
        symptom_onset=episode.symptom_onset,
        conservative_care_start=episode.conservative_care_start,
        flags=[
            Interval(f.raised_on, local_date(f.ruled_out_at, zone)) for f in episode.red_flags.all()
        ],
    )
