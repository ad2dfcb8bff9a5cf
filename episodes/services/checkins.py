"""What a patient's check-in does to the episode (notifications owns the check-in row)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from careflow.checkin import Overall, Symptom, signs_for
from episodes.models import (
    Episode,
    RedFlag,
    RedFlagStatus,
    Source,
)
from episodes.selectors import patient_today
from episodes.services.checks import lock, refuse_terminal
from episodes.services.derived import after_write
from episodes.services.facts import record_assessment
from episodes.services.red_flags import raise_flag

logger = logging.getLogger(__name__)


def _raise_reported_flags(episode: Episode, symptoms: list[str], *, note: str) -> list[RedFlag]:
    """Raise each red flag a patient reports that is not already active (PATHWAY.md)."""
    today = patient_today(episode.patient)
    active = set(
        episode.red_flags.filter(status=RedFlagStatus.ACTIVE).values_list("sign", flat=True)
    )
    return [
        raise_flag(episode, sign=sign, by=None, note=note, source=Source.PATIENT, today=today)
        for sign in signs_for(symptoms)
        if sign not in active
    ]


def _unknown_symptoms(symptoms: list[str]) -> dict[str, list[str]]:
    unknown = [s for s in symptoms if s not in Symptom.__members__.values()]
    return {"symptoms": [f"Unknown symptoms: {unknown}."]} if unknown else {}


def checkin_answers_validate(*, symptoms: list[str], overall: str | None = None) -> None:
    """Refuse unknown symptoms (and, when given, an unknown overall answer) of a check-in."""
    errors = _unknown_symptoms(symptoms)
    if overall is not None and overall not in Overall.__members__.values():
        errors["overall"] = [f"One of {[o.value for o in Overall]}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def episode_checkin_red_flags_report(
    *, episode_id: int, reminder_id: int, symptoms: list[str]
) -> list[RedFlag]:
    """Record the red-flag symptoms of a check-in the patient has not finished.

    A reported red-flag symptom is never dropped (PATHWAY.md "Patient check-in answers"):
    whatever else the form lacks, the flag is raised with the patient as its source, the
    episode escalates and the care team is alerted; the page then asks for the rest.
    Returns the flags raised (none when each was already active). notifications'
    ``checkin_red_flags_report`` finds the episode from the reminder and calls this.
    """
    checkin_answers_validate(symptoms=symptoms)
    episode = lock(episode_id)
    refuse_terminal(episode)
    raised = _raise_reported_flags(
        episode,
        symptoms,
        note=f"reported by the patient on the check-in page of reminder #{reminder_id} "
        "(form not finished)",
    )
    if raised:
        episode.version += 1
        episode.save()
        after_write(episode)
    logger.info("check-in red flags reported episode=%s raised=%s", episode.pk, len(raised))
    return raised


def episode_checkin_apply(
    *,
    episode: Episode,
    checkin_id: int,
    overall: str,
    disabling_pain: bool,
    symptoms: list[str],
) -> None:
    """Let a recorded (or corrected) check-in's answers drive the episode, locked by the caller.

    A red-flag symptom raises the flag with the patient as its source (escalating per
    PATHWAY.md and alerting the care team); disabling pain is recorded as an assessment
    (REF-2); "resolved" asks the care team to confirm. A correction never lowers a flag
    already raised: only a clinician rules a red flag out. notifications'
    ``checkin_submit`` records the check-in row (its model) and calls this.
    """
    today = patient_today(episode.patient)
    _raise_reported_flags(
        episode, symptoms, note=f"reported by the patient in check-in #{checkin_id}"
    )
    if disabling_pain and not (episode.facts or {}).get("disabling_pain"):
        record_assessment(
            episode,
            values={"disabling_pain": True},
            by=None,
            note=f"reported by the patient in check-in #{checkin_id}",
            source=Source.PATIENT,
            today=today,
        )
    if overall == Overall.RESOLVED:
        episode.resolution_reported_on = episode.resolution_reported_on or today
    episode.version += 1
    episode.save()
    after_write(episode)
