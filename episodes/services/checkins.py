"""What a patient's check-in does to the episode (notifications owns the check-in row)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from careflow.checkin import Overall, Symptom, signs_for
from careflow.states import TERMINAL_STATES, State
from episodes.models import (
    Episode,
    RedFlag,
    Source,
)
from episodes.selectors import patient_today
from episodes.services.checks import lock
from episodes.services.derived import after_write
from episodes.services.facts import assessment_record_locked
from episodes.services.reports import reported_signs_record_locked

logger = logging.getLogger(__name__)


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
    episode escalates and the care team is alerted; a symptom whose flag is already active,
    or reported on an ended episode, is a report for a clinician to review, and the care
    team is alerted again (``reported_signs_record_locked``). The page then asks for the rest.
    Returns the flags raised. notifications' ``checkin_red_flags_report`` finds the
    episode from the reminder and calls this.
    """
    checkin_answers_validate(symptoms=symptoms)
    episode = lock(episode_id)
    raised, to_review, facts = reported_signs_record_locked(
        episode,
        signs=signs_for(symptoms),
        reminder_id=reminder_id,
        note=f"reported by the patient on the check-in page of reminder #{reminder_id} "
        "(form not finished)",
        today=patient_today(episode.patient),
        facts=None,
    )
    if raised or to_review:
        episode.version += 1
        after_write(episode, facts)
    logger.info(
        "check-in red flags reported episode=%s raised=%s to_review=%s",
        episode.pk,
        len(raised),
        len(to_review),
    )
    return raised


def episode_checkin_apply(
    *,
    episode: Episode,
    checkin_id: int,
    reminder_id: int,
    overall: str,
    disabling_pain: bool,
    symptoms: list[str],
) -> None:
    """Let a recorded (or corrected) check-in's answers drive the episode, locked by the caller.

    A red-flag symptom raises the flag with the patient as its source (escalating per
    PATHWAY.md and alerting the care team), or, when its flag is already active, is a
    report for a clinician to review (the team alerted again). Disabling pain is recorded
    as an assessment (REF-2; a patient's answer never meets CC-1's reassessment).
    "resolved" asks the care team to confirm; a later other answer withdraws that. A
    correction never lowers a flag already raised: only a clinician rules a red flag out.
    On a resolved or closed episode only the red-flag symptoms count: each is a report to
    review, and the facts stay as the episode ended. notifications' ``checkin_submit``
    records the check-in row (its model) and calls this.
    """
    today = patient_today(episode.patient)
    raised, to_review, facts = reported_signs_record_locked(
        episode,
        signs=signs_for(symptoms),
        reminder_id=reminder_id,
        note=f"reported by the patient in check-in #{checkin_id}",
        today=today,
        facts=None,
    )
    if State(episode.state) in TERMINAL_STATES:
        if raised or to_review:
            episode.version += 1
            after_write(episode, facts)
        return
    if disabling_pain and not (episode.facts or {}).get("disabling_pain"):
        assessment_record_locked(
            episode,
            values={"disabling_pain": True},
            by=None,
            note=f"reported by the patient in check-in #{checkin_id}",
            source=Source.PATIENT,
            today=today,
        )
    # The latest answer stands: "resolved" asks for confirmation, any other withdraws it.
    if overall == Overall.RESOLVED:
        episode.resolution_reported_on = episode.resolution_reported_on or today
    else:
        episode.resolution_reported_on = None
    episode.version += 1
    after_write(episode, facts)
