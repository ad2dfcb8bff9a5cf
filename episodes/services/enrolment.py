"""Enrolment from another system's record: conditional on the patient's identifier.

A referring system retries what it is not sure went through. With the identifier it knows
the patient by (the MRN), a retried enrolment finds the patient the first one made and
answers with it, creating nothing; two identical enrolments at once are one (an advisory
lock on the team and identifier, held to the end of the transaction, orders them, and the
unique constraint ``patient_team_identifier`` backs it).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from careflow.states import NON_TERMINAL_STATES
from episodes.models import CareTeam, Episode, Patient
from episodes.services.episodes import episode_create
from episodes.services.patients import patient_create

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

# pg_advisory_xact_lock(namespace, key): the namespace keeps these locks apart from any
# other advisory lock; the key is a CRC of the team and identifier (a collision only makes
# two enrolments wait for each other).
LOCK_NAMESPACE: Final = 0x0E1201


@dataclass(frozen=True, slots=True)
class Enrolment:
    patient: Patient
    episode: Episode
    patient_created: bool
    episode_created: bool


def _lock_identifier(team_id: int, value: str) -> None:
    key = zlib.crc32(f"{team_id}|{value}".encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


@transaction.atomic
def enrolment_create(
    *,
    care_team: CareTeam,
    by: User | None,
    patient_fields: Mapping[str, Any],
    episode_fields: Mapping[str, Any],
    match: tuple[str | None, str] | None = None,
) -> Enrolment:
    """Create the patient and open their episode, unless ``match`` finds the patient.

    ``match``: (identifier system or None for any, identifier value), FHIR's conditional
    create. The patient of ``care_team`` with that identifier, if any, is the answer: with
    their open episode, nothing is created; with none open, an episode is opened for them
    (a returning patient). More than one patient matching is a ValidationError.
    """
    value = (match[1] if match else "") or patient_fields.get("identifier_value", "")
    if value:
        _lock_identifier(care_team.pk, value)
    if match is not None:
        system, wanted = match
        found = Patient.objects.filter(care_team=care_team, identifier_value=wanted)
        if system is not None:
            found = found.filter(identifier_system=system)
        patients = list(found.order_by("id")[:2])
        if len(patients) > 1:
            msg = "More than one patient of this care team has that identifier."
            raise ValidationError({"identifier": [ValidationError(msg, code="ambiguous")]})
        if patients:
            patient = patients[0]
            episode = (
                Episode.objects.filter(
                    patient=patient, state__in=[s.value for s in NON_TERMINAL_STATES]
                )
                .order_by("-id")
                .first()
            )
            if episode is not None:
                return Enrolment(patient, episode, patient_created=False, episode_created=False)
            episode = episode_create(patient=patient, by=by, **episode_fields)
            return Enrolment(patient, episode, patient_created=False, episode_created=True)
    patient = patient_create(care_team=care_team, **patient_fields)
    episode = episode_create(patient=patient, by=by, **episode_fields)
    return Enrolment(patient, episode, patient_created=True, episode_created=True)
