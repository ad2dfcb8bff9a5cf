"""Episodes: create, correct dates or assignee, lock an open one for a write."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from episodes.models import (
    CareTeam,
    CorrectedField,
    Correction,
    Episode,
    Patient,
    Source,
)
from episodes.selectors import patient_today
from episodes.services.checks import (
    check_assignee,
    check_version,
    lock,
    refuse_terminal,
    validate_dates,
    validate_fact_values,
)
from episodes.services.derived import after_write
from episodes.services.facts import assessment_record_locked
from episodes.services.red_flags import derive_red_flags

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


@transaction.atomic
def episode_create(
    *,
    patient: Patient,
    by: User | None,
    symptom_onset: date,
    conservative_care_start: date | None = None,
    care_team: CareTeam | None = None,
    assigned_to: User | None = None,
    condition: tuple[str, str] | None = None,
    condition_notes: list[str] | None = None,
    **fact_values: Any,
) -> Episode:
    """Create an episode: record its first facts, derive red flags, schedule reminders.

    ``condition``: the (system, code) of the diagnosis as the referrer sent it, and
    ``condition_notes`` their notes on it, kept as sent and read back (FHIR Condition).
    """
    today = patient_today(patient)
    start = conservative_care_start or today
    validate_dates(symptom_onset=symptom_onset, conservative_care_start=start, today=today)
    values = validate_fact_values(fact_values)
    team = care_team or patient.care_team
    check_assignee(team.pk, assigned_to)
    episode = Episode.objects.create(
        patient=patient,
        care_team=team,
        assigned_to=assigned_to,
        symptom_onset=symptom_onset,
        conservative_care_start=start,
        enrolled_on=today,
        condition_system=condition[0] if condition else "",
        condition_code=condition[1] if condition else "",
        condition_notes=list(condition_notes or []),
    )
    if values:
        assessment_record_locked(
            episode, values=values, by=by, note="", source=Source.USER, today=today
        )
    facts = derive_red_flags(episode, today=today, facts=None)
    after_write(episode, facts)
    logger.info("episode created id=%s state=%s", episode.pk, episode.state)
    return episode


DATE_FIELDS = (CorrectedField.SYMPTOM_ONSET, CorrectedField.CONSERVATIVE_CARE_START)


@transaction.atomic
def episode_update(
    *,
    episode_id: int,
    by: User | None,
    fields: Mapping[str, Any],
    reason: str = "",
    version: int | None = None,
) -> Episode:
    """Correct onset / care start, or set the assignee.

    A date correction names a ``reason`` and leaves a ``Correction`` row (old and new value,
    who, why) on the timeline; derived flags (RF-3), deadlines and unsent reminders are
    recomputed from it (PATHWAY.md "Facts change over time"). ``version``, when given, must
    be the episode's current one (409 conflict otherwise).
    """
    episode = lock(episode_id)
    check_version(episode, version)
    refuse_terminal(episode)
    today = patient_today(episode.patient)
    allowed = {"symptom_onset", "conservative_care_start", "assigned_to"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    changed = [f for f in DATE_FIELDS if f in fields and fields[f] != getattr(episode, f)]
    if changed and not reason.strip():
        raise ValidationError({"reason": ["A date correction needs a reason."]})
    onset = fields.get("symptom_onset", episode.symptom_onset)
    start = fields.get("conservative_care_start", episode.conservative_care_start)
    validate_dates(symptom_onset=onset, conservative_care_start=start, today=today)
    if "assigned_to" in fields:
        check_assignee(episode.care_team_id, fields["assigned_to"])
    Correction.objects.bulk_create(
        Correction(
            patient_id=episode.patient_id,
            episode=episode,
            field=name,
            old_value=getattr(episode, name),
            new_value=fields[name],
            reason=reason.strip(),
            by=by,
        )
        for name in changed
    )
    for name, value in fields.items():
        setattr(episode, name, value)
    episode.version += 1
    facts = derive_red_flags(episode, today=today, facts=None)
    after_write(episode, facts)
    logger.info("episode updated id=%s by=%s", episode.pk, getattr(by, "pk", None))
    return episode


def episode_lock(episode_id: int) -> Episode:
    """Lock the episode for a write from a layer above (a check-in), whatever its state.

    The caller decides what an ended episode takes (a red-flag report, and nothing else).
    """
    return lock(episode_id)
