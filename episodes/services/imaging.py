"""Imaging studies recorded on an episode."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from episodes.models import (
    ImagingStudy,
)
from episodes.selectors import imaging_warnings_for, patient_today
from episodes.selectors.prefetch import prefetch_rows
from episodes.services.checks import lock, refuse_terminal
from episodes.services.derived import after_write

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


@transaction.atomic
def imaging_record(
    *,
    episode_id: int,
    by: User | None,
    performed_on: date,
    modality: str = "mri_lumbar_without_contrast",
    nerve_root_compression: bool = False,
    level: str = "",
    clinically_correlated: bool = False,
) -> ImagingStudy:
    """Record a study; ``study.warnings`` lists what it tells the care team (IM-2)."""
    episode = lock(episode_id)
    refuse_terminal(episode)
    today = patient_today(episode.patient)
    if performed_on > today:
        raise ValidationError(
            {"performed_on": [ValidationError("Imaging cannot be in the future.", code="future")]}
        )
    study = ImagingStudy.objects.create(
        episode=episode,
        modality=modality,
        performed_on=performed_on,
        nerve_root_compression=nerve_root_compression,
        level=level,
        clinically_correlated=clinically_correlated,
        recorded_by=by,
    )
    # Read once, with the new study, for the warnings and for after_write's facts.
    prefetch_rows(episode, "red_flags", "imaging")
    # IM-2 is a warning, never a refusal: the study happened. The caller shows it.
    study.warnings = imaging_warnings_for(episode, performed_on)
    episode.version += 1
    after_write(episode)
    return study
