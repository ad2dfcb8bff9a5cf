"""Patients: create, correct (a birth-date correction recomputes every open episode)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from careflow.states import (
    TERMINAL_STATES,
    State,
)
from episodes.models import (
    CareTeam,
    Channel,
    CorrectedField,
    Correction,
    Episode,
    Patient,
)
from episodes.selectors import patient_today
from episodes.services.checks import lock
from episodes.services.derived import after_write
from episodes.services.red_flags import derive_red_flags
from episodes.signals import patient_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


PATIENT_FIELDS = (
    "given_name",
    "family_name",
    "birth_date",
    "email",
    "phone",
    "timezone",
    "preferred_channel",
    "sms_consent",
    "opted_out",
    "language",
)


# Set when a patient is enrolled from another system's record (interop's FHIR enrolment):
# its identifier (the MRN) and the administrative gender it gave.
RECORD_FIELDS = ("identifier_system", "identifier_value", "gender")


def _validate_patient(patient: Patient, *, channel_chosen: bool = True) -> None:
    """The record's own checks; SMS needs a phone and consent when it is chosen.

    ``channel_chosen``: the write chooses the preferred channel (a new patient, or a change
    of it). A withdrawal of consent afterwards (the patient's STOP, or a correction) never
    makes the record invalid: the patient's choice stays and reminders fall back to email
    (notifications.channels.patient_channel_for), so other corrections still go through.
    """
    patient.full_clean()
    if (
        channel_chosen
        and patient.preferred_channel == Channel.SMS
        and not (patient.phone and patient.sms_consent)
    ):
        msg = "SMS needs a phone number and the patient's SMS consent."
        raise ValidationError({"preferred_channel": [ValidationError(msg, code="sms_unreachable")]})


@transaction.atomic
def patient_create(*, care_team: CareTeam, **fields: Any) -> Patient:
    unknown = set(fields) - set(PATIENT_FIELDS) - set(RECORD_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    patient = Patient(care_team=care_team, **fields)
    _validate_patient(patient)
    patient.save()
    patient_changed.send(sender=Patient, patient=patient)
    logger.info("patient created id=%s team=%s", patient.pk, care_team.pk)
    return patient


@transaction.atomic
def patient_update(
    *,
    patient_id: int,
    by: User | None = None,
    fields: Mapping[str, Any],
    reason: str = "",
) -> Patient:
    """Correct a patient's details; a birth-date correction names a reason (PATHWAY.md).

    ``fields`` maps the changed ``PATIENT_FIELDS`` to their new values, as in every
    ``*_update`` service: the data apart from who asks and why (``by``, ``reason``).

    A corrected birth date or time zone changes what the pathway derives (RF-3's age, the
    patient's local dates): every open episode recomputes its derived flags, deadlines and
    reminders in the same transaction.
    """
    open_states = [s.value for s in State if s not in TERMINAL_STATES]
    # Episodes before their patient, as every episode write takes them (lock(): the episode
    # row, then its patient's): a patient locked first deadlocked against a concurrent write
    # to one of its episodes.
    open_episodes = list(
        Episode.objects.select_for_update(of=("self",))
        .filter(patient_id=patient_id, state__in=open_states)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    old_birth_date = patient.birth_date
    channel_chosen = fields.get("preferred_channel", patient.preferred_channel) != (
        patient.preferred_channel
    )
    birth_date_changes = "birth_date" in fields and fields["birth_date"] != old_birth_date
    if birth_date_changes and not reason.strip():
        raise ValidationError({"reason": ["A birth-date correction needs a reason."]})
    for name, value in fields.items():
        setattr(patient, name, value)
    _validate_patient(patient, channel_chosen=channel_chosen)
    patient.save()
    patient_changed.send(sender=Patient, patient=patient)
    if birth_date_changes:
        Correction.objects.create(
            patient=patient,
            field=CorrectedField.BIRTH_DATE,
            old_value=old_birth_date,
            new_value=patient.birth_date,
            reason=reason.strip(),
            by=by,
        )
        logger.info("patient birth date corrected id=%s", patient.pk)
    for episode_id in open_episodes:
        episode = lock(episode_id)
        if birth_date_changes:
            episode.version += 1  # its facts changed: a client holding the old version is stale
        facts = derive_red_flags(episode, today=patient_today(episode.patient), facts=None)
        after_write(episode, facts)
    return patient
