"""Assessments: their values become the episode's current facts (REF-2/REF-3 dated)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction

from episodes.models import (
    Assessment,
    Episode,
    Source,
    is_team_clinician,
)
from episodes.selectors import patient_today
from episodes.services.checks import lock, refuse_terminal, validate_fact_values
from episodes.services.derived import after_write
from episodes.services.red_flags import derive_red_flags
from episodes.services.reports import reports_review_by_assessment

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


# The facts whose first recording in a run starts a referral deadline, and their date column.
RUN_DATED_FACTS = {
    "disabling_pain": "disabling_pain_recorded_on",  # REF-2
    "neurological_deficit": "neurological_deficit_recorded_on",  # REF-3
}


def assessment_record_locked(
    episode: Episode,
    *,
    values: dict[str, bool],
    by: User | None,
    note: str,
    source: str,
    today: date,
) -> Assessment:
    """Record the assessment and its values as the episode's facts, in memory.

    A clinician of the care team assessing the patient also meets CC-1's 6-week
    reassessment (from day 42: ``last_assessment_on``) and reviews the patient's red-flag
    reports made before it (``review_patient_report``). A patient's check-in answers and a
    coordinator's entries change the facts only (PATHWAY.md CC-1).
    The caller ends its write with ``after_write``, which saves the episode.
    """
    assessment = Assessment.objects.create(
        episode=episode, values=values, note=note, source=source, recorded_by=by
    )
    current = dict(episode.facts or {})
    for name, value in values.items():
        if name in RUN_DATED_FACTS:
            # REF-2 / REF-3 run from the first recording of the current run of the finding:
            # recording it again while present keeps the date (the deadline never slides
            # later); recording it absent ends the run.
            column = RUN_DATED_FACTS[name]
            if not value:
                setattr(episode, column, None)
            elif not current.get(name) or getattr(episode, column) is None:
                setattr(episode, column, today)
        current[name] = value
    episode.facts = current
    if by is not None and is_team_clinician(episode, by):
        episode.last_assessment_on = today
        reports_review_by_assessment(episode, by=by, assessment_id=assessment.pk)
    return assessment


@transaction.atomic
def assessment_record(
    *,
    episode_id: int,
    by: User | None,
    values: Mapping[str, Any],
    note: str = "",
    source: str = Source.USER,
) -> Assessment:
    """Append an assessment; its values become the current facts (REF-2/REF-3 dated)."""
    episode = lock(episode_id)
    refuse_terminal(episode)
    checked = validate_fact_values(values)
    today = patient_today(episode.patient)
    assessment = assessment_record_locked(
        episode, values=checked, by=by, note=note, source=source, today=today
    )
    episode.version += 1
    facts = derive_red_flags(episode, today=today, facts=None)
    after_write(episode, facts)
    return assessment
