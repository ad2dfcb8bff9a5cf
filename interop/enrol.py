"""Enrolment by a FHIR transaction Bundle: a Patient and a Condition (the onset).

The Bundle is checked against the R4B models first (a malformed resource is a 400 before
anything else), then mapped to the bodies of ``POST /api/patients/`` and
``POST /api/episodes/`` and put through the same input serializers and the same services,
in one transaction: either both are created, with their derived red flags and reminders,
or nothing is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError as PydanticValidationError

from api.serializers.inputs import EpisodeCreateInputSerializer, PatientCreateInputSerializer
from careflow.facts import BOOLEAN_FACTS
from episodes import services
from episodes.models import Episode, Gender, Patient
from episodes.selectors import care_team_for_new_patient
from interop import codes
from workspace.forms import label_for

Issue = tuple[str, str]  # (FHIRPath expression, message)

PATIENT_PATHS: Final = {
    "given_name": "Patient.name.given",
    "family_name": "Patient.name.family",
    "birth_date": "Patient.birthDate",
    "email": "Patient.telecom",
    "phone": "Patient.telecom",
    "preferred_channel": "Patient.telecom.rank",
    "sms_consent": "Patient.telecom.extension",
    "opted_out": "Patient.extension",
    "timezone": "Patient.extension",
    "language": "Patient.communication.language",
    "care_team": "Patient.managingOrganization",
    "identifier": "Patient.identifier",
    "identifier_system": "Patient.identifier.system",
    "identifier_value": "Patient.identifier.value",
    "gender": "Patient.gender",
    NON_FIELD_ERRORS: "Patient.identifier",  # the only check across fields: its uniqueness
}
CONDITION_PATHS: Final = {
    "symptom_onset": "Condition.onsetDateTime",
    "conservative_care_start": "Condition.extension",
    **dict.fromkeys(BOOLEAN_FACTS, "Condition.evidence"),
}


class EnrolmentError(Exception):
    """The Bundle cannot enrol anyone; nothing was written."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in issues))
        self.issues = issues


@dataclass(frozen=True, slots=True)
class Enrolled:
    patient: Patient
    episode: Episode
    patient_created: bool = True
    episode_created: bool = True


def words(errors: Any) -> list[str]:  # noqa: ANN401 - DRF's or Django's error structure
    """Every message in an error structure, as plain text (never a Python repr)."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in words(value)]
    if isinstance(errors, (list, tuple)):
        return [m for value in errors for m in words(value)]
    return [str(errors)]


def _messages(errors: Any, paths: Mapping[str, str], default: str) -> list[Issue]:  # noqa: ANN401
    """Each message under the words a person reads for its field ("Date of birth: ...").

    The expression names the element; the message names the field as the workspace's form
    does, never careflow's column name.
    """
    if not isinstance(errors, dict):
        return [(default, message) for message in words(errors)]
    return [
        (
            paths.get(field, default),
            message if field == NON_FIELD_ERRORS else f"{label_for(field)}: {message}",
        )
        for field, messages in errors.items()
        for message in words(messages)
    ]


# pydantic's messages for a Bundle the R4B models refuse, as sentences (by error type).
_STRUCTURE_WORDS: Final = {
    "missing": "is required",
    "extra_forbidden": "is not an element of this resource in FHIR R4B",
}


def fhirpath(loc: tuple[Any, ...], root: str = "Bundle") -> str:
    """A pydantic error location as a FHIRPath expression: ``Bundle.entry[0].resource.birthDate``.

    List positions become indexers; the models' own steps (a validator's name, a choice
    type's tag, anything that is not an element name) are left out.
    """
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier() and part != root:
            path += f".{part}"
    return path


def _structure_issues(exc: PydanticValidationError) -> list[Issue]:
    issues = []
    for error in exc.errors()[:20]:
        where = fhirpath(error["loc"])
        element = where.rsplit(".", 1)[-1] if "." in where else "Bundle"
        text = _STRUCTURE_WORDS.get(error["type"])
        if text is None:
            text = error["msg"].removeprefix("Value error, ").rstrip(".")
            text = text.replace("does not match spec regex", "is not in the format FHIR defines")
        issues.append((where, f"{element}: {text}"))
    return issues


# An enrolment is one Patient and one Condition; a few more are refused with reasons below.
MAX_ENTRIES = 10


@dataclass(frozen=True, slots=True)
class Entries:
    patient: dict[str, Any]
    patient_url: str
    condition: dict[str, Any]
    if_none_exist: str | None  # the Patient entry's request.ifNoneExist


def _entries(body: Any) -> Entries:  # noqa: ANN401 - JSON
    """The Patient (its fullUrl, ifNoneExist) and Condition of a transaction Bundle."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise EnrolmentError([("Bundle", "the body must be a FHIR Bundle")])
    entries = body.get("entry")
    if isinstance(entries, list) and len(entries) > MAX_ENTRIES:
        # Refused before the model validates every entry: a Bundle of thousands would
        # otherwise cost seconds of CPU to be refused all the same.
        raise EnrolmentError(
            [("Bundle.entry", f"at most {MAX_ENTRIES} entries: one Patient and one Condition")]
        )
    try:
        Bundle.model_validate(body)
    except PydanticValidationError as exc:
        raise EnrolmentError(_structure_issues(exc)) from exc
    except (ValueError, TypeError, LookupError) as exc:
        raise EnrolmentError([("Bundle", f"not a valid R4B Bundle: {exc}")]) from exc
    if body.get("type") != "transaction":
        raise EnrolmentError([("Bundle.type", "must be 'transaction'")])
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in body.get("entry") or []:
        resource = entry.get("resource") or {}
        request = entry.get("request") or {}
        kind = resource.get("resourceType")
        if kind not in ("Patient", "Condition") or request.get("method") != "POST":
            raise EnrolmentError(
                [("Bundle.entry", "only a POST of one Patient and one Condition is accepted")]
            )
        found.setdefault(kind, []).append(entry)
    if len(found.get("Patient", [])) != 1 or len(found.get("Condition", [])) != 1:
        raise EnrolmentError([("Bundle.entry", "exactly one Patient and one Condition, please")])
    patient_entry, condition_entry = found["Patient"][0], found["Condition"][0]
    if (condition_entry.get("request") or {}).get("ifNoneExist") is not None:
        raise EnrolmentError(
            [
                (
                    "Bundle.entry.request.ifNoneExist",
                    (
                        "ifNoneExist is taken on the Patient entry (matching its identifier); "
                        "the Condition is the found patient's open episode"
                    ),
                )
            ]
        )
    return Entries(
        patient=patient_entry["resource"],
        patient_url=patient_entry.get("fullUrl") or "",
        condition=condition_entry["resource"],
        if_none_exist=(patient_entry.get("request") or {}).get("ifNoneExist"),
    )


def _extension(resource: Mapping[str, Any], url: str) -> Mapping[str, Any] | None:
    for ext in resource.get("extension") or []:
        if ext.get("url") == url:
            return ext
    return None


def _telecom_fields(patient: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for point in patient.get("telecom") or []:
        system, value = point.get("system"), point.get("value")
        if system == "email" and value:
            fields["email"] = value
            if point.get("rank") == 1:
                fields["preferred_channel"] = "email"
        elif system in ("phone", "sms") and value:
            fields["phone"] = value
            consent = _extension(point, codes.EXT_SMS_CONSENT)
            fields["sms_consent"] = (
                consent.get("valueBoolean") if consent is not None else system == "sms"
            )
            if point.get("rank") == 1 and system == "sms":
                fields["preferred_channel"] = "sms"
    return fields


def _language(patient: Mapping[str, Any]) -> dict[str, Any]:
    for item in patient.get("communication") or []:
        for code in (item.get("language") or {}).get("coding") or []:
            if code.get("system") == codes.BCP47 and code.get("code"):
                return {"language": code["code"]}
    return {}


def patient_body(patient: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /api/patients/`` body a FHIR Patient stands for."""
    body: dict[str, Any] = {}
    names = patient.get("name") or []
    if names:
        name = names[0]
        if name.get("family"):
            body["family_name"] = name["family"]
        if name.get("given"):
            body["given_name"] = " ".join(name["given"])
    if patient.get("birthDate"):
        body["birth_date"] = patient["birthDate"]
    body.update(_telecom_fields(patient))
    body.update(_language(patient))
    zone = _extension(patient, codes.EXT_TIMEZONE)
    if zone is not None:
        body["timezone"] = zone.get("valueCode")
    opted_out = _extension(patient, codes.EXT_OPTED_OUT)
    if opted_out is not None:
        body["opted_out"] = opted_out.get("valueBoolean")
    identifier = (patient.get("managingOrganization") or {}).get("identifier") or {}
    if identifier.get("system") == codes.CARE_TEAMS:
        value = identifier.get("value")
        body["care_team"] = int(value) if str(value).isascii() and str(value).isdigit() else value
    return body


def condition_body(condition: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /api/episodes/`` body (without the patient) a FHIR Condition stands for."""
    body: dict[str, Any] = {}
    onset = condition.get("onsetDateTime")
    if onset is not None:
        # A dateTime's calendar date: careflow counts days (PATHWAY.md "Day arithmetic").
        body["symptom_onset"] = onset[:10] if isinstance(onset, str) else onset
    start = _extension(condition, codes.EXT_CARE_START)
    if start is not None:
        body["conservative_care_start"] = start.get("valueDate")
    for evidence in condition.get("evidence") or []:
        for code in evidence.get("code") or []:
            for item in code.get("coding") or []:
                if item.get("system") == codes.FACTS:
                    body[str(item.get("code"))] = True
    return body


def _check_condition(condition: Mapping[str, Any], patient_url: str) -> list[Issue]:
    issues: list[Issue] = []
    codings = (condition.get("code") or {}).get("coding") or []
    if not any((c.get("system"), c.get("code")) in codes.ENROLLABLE for c in codings):
        issues.append(
            (
                "Condition.code",
                (
                    "careflow enrols lumbosacral radiculopathy: ICD-10-CM "
                    f"{codes.ICD10CM_LUMBOSACRAL[0]} or {codes.ICD10CM_LUMBAR[0]}, or SNOMED CT "
                    f"{codes.SNOMED_LUMBOSACRAL_RADICULOPATHY[0]} or "
                    f"{codes.SNOMED_LUMBAR_RADICULOPATHY[0]}"
                ),
            )
        )
    subject = (condition.get("subject") or {}).get("reference")
    if not patient_url or subject != patient_url:
        issues.append(
            ("Condition.subject", "must refer to the Patient in this Bundle (its fullUrl)")
        )
    if "onsetDateTime" not in condition:
        issues.append(("Condition.onsetDateTime", "the symptom onset is required"))
    unknown = sorted(set(condition_body(condition)) - set(CONDITION_PATHS))
    issues.extend(("Condition.evidence", f"unknown fact: {name}") for name in unknown)
    return issues


MAX_IDENTIFIER = 64
MAX_SYSTEM = 255
MAX_NOTES = 10
MAX_NOTE = 10_000  # as every free-text field of the API


def _record_fields(patient: Mapping[str, Any]) -> tuple[dict[str, str], list[Issue]]:
    """The Patient's identifier (the MRN: one, with its system) and administrative gender."""
    fields: dict[str, str] = {}
    issues: list[Issue] = []
    identifiers = patient.get("identifier") or []
    if len(identifiers) > 1:
        issues.append(
            ("Patient.identifier", "one identifier (the record number careflow keeps), please")
        )
    elif identifiers:
        system, value = identifiers[0].get("system"), identifiers[0].get("value")
        if not system or not value:
            issues.append(("Patient.identifier", "an identifier needs its system and value"))
        elif len(system) > MAX_SYSTEM or len(value) > MAX_IDENTIFIER:
            issues.append(
                (
                    "Patient.identifier",
                    (
                        f"a system of at most {MAX_SYSTEM} characters and a value of at most "
                        f"{MAX_IDENTIFIER}"
                    ),
                )
            )
        else:
            fields |= {"identifier_system": system, "identifier_value": value}
    gender = patient.get("gender")
    if gender is not None:
        if gender not in Gender.values:
            issues.append(
                (
                    "Patient.gender",
                    f"gender: one of {', '.join(Gender.values)} (HL7 administrative gender)",
                )
            )
        else:
            fields["gender"] = gender
    return fields, issues


def _match(  # noqa: PLR0911 - one return per way a search can be wrong
    if_none_exist: Any,  # noqa: ANN401 - JSON
    record: Mapping[str, str],
) -> tuple[tuple[str | None, str] | None, list[Issue]]:
    """``ifNoneExist`` (``identifier=system|value`` or ``identifier=value``) as a match."""
    where = "Bundle.entry.request.ifNoneExist"
    if if_none_exist is None:
        return None, []
    if not isinstance(if_none_exist, str):
        return None, [(where, "a search: identifier=<system>|<value>")]
    try:
        pairs = parse_qsl(if_none_exist, strict_parsing=True, max_num_fields=5)
    except ValueError:
        return None, [(where, "a search: identifier=<system>|<value>")]
    unsupported = sorted({name for name, _value in pairs} - {"identifier"})
    if unsupported:
        return None, [
            (where, f"unsupported search parameter: {name} (only identifier is matched)")
            for name in unsupported
        ]
    if len(pairs) != 1 or not pairs[0][1]:
        return None, [(where, "identifier once: identifier=<system>|<value>")]
    system, bar, value = pairs[0][1].rpartition("|")
    wanted: tuple[str | None, str] = (system if bar else None, value)
    if (wanted[0] not in (None, record.get("identifier_system"))) or wanted[1] != record.get(
        "identifier_value"
    ):
        return None, [
            (where, "must name the Patient's own identifier, so that a retry finds this patient")
        ]
    return wanted, []


def _condition_record(condition: Mapping[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """The Condition's code as sent (the first of this pathway's) and its notes' text."""
    fields: dict[str, Any] = {}
    for item in (condition.get("code") or {}).get("coding") or []:
        if (item.get("system"), item.get("code")) in codes.ENROLLABLE:
            fields["condition"] = (item["system"], item["code"])
            break
    notes = [note.get("text") for note in condition.get("note") or []]
    if len(notes) > MAX_NOTES:
        return fields, [("Condition.note", f"at most {MAX_NOTES} notes")]
    if any(not isinstance(n, str) or not n.strip() or len(n) > MAX_NOTE for n in notes):
        return fields, [
            ("Condition.note", f"each note's text: 1 to {MAX_NOTE} characters, not blank")
        ]
    if notes:
        fields["condition_notes"] = notes
    return fields, []


def enrol(*, body: Any, user: Any) -> Enrolled:  # noqa: ANN401 - JSON, the auth user
    """Enrol the patient and open their episode, or find them (``ifNoneExist``).

    Raises EnrolmentError having written nothing.
    """
    entries = _entries(body)
    issues = _check_condition(entries.condition, entries.patient_url)
    record, more = _record_fields(entries.patient)
    issues += more
    match, more = _match(entries.if_none_exist, record)
    issues += more
    condition, more = _condition_record(entries.condition)
    issues += more
    if issues:
        raise EnrolmentError(issues)
    patient_input = PatientCreateInputSerializer(data=patient_body(entries.patient))
    if not patient_input.is_valid():
        raise EnrolmentError(_messages(patient_input.errors, PATIENT_PATHS, "Patient"))
    episode_input = EpisodeCreateInputSerializer(
        data={**condition_body(entries.condition), "patient": 1}
    )
    if not episode_input.is_valid():
        raise EnrolmentError(_messages(episode_input.errors, CONDITION_PATHS, "Condition"))
    fields = dict(patient_input.validated_data)
    try:
        care_team = care_team_for_new_patient(user, fields.pop("care_team", None))
    except DjangoValidationError as exc:  # about the team: the Patient's, as in the API
        raise EnrolmentError(_messages(exc.message_dict, PATIENT_PATHS, "Patient")) from exc
    fields.setdefault("timezone", settings.TIME_ZONE)
    episode_fields = dict(episode_input.validated_data)
    episode_fields.pop("patient")
    episode_fields.pop("assigned_to", None)
    try:
        enrolment = services.enrolment_create(
            care_team=care_team,
            by=user,
            patient_fields={**fields, **record},
            episode_fields={**episode_fields, **condition},
            match=match,
        )
    except DjangoValidationError as exc:
        # The services' checks (dates against the patient's own calendar, SMS consent, an
        # identifier another patient of the team has).
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        paths = {**PATIENT_PATHS, **CONDITION_PATHS}
        raise EnrolmentError(_messages(errors, paths, "Bundle")) from exc
    return Enrolled(
        patient=enrolment.patient,
        episode=enrolment.episode,
        patient_created=enrolment.patient_created,
        episode_created=enrolment.episode_created,
    )
