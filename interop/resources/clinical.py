"""Patient, EpisodeOfCare, Condition, Flag, Observation and the imaging DiagnosticReport."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from careflow.states import TERMINAL_STATES, State
from episodes.models import (
    Assessment,
    Episode,
    ImagingStudy,
    Language,
    Patient,
    RedFlag,
    RedFlagStatus,
)
from interop import codes
from interop.resources.common import (
    Resource,
    coding,
    concept,
    episode_ext,
    fhir_id,
    instant,
    meta,
    ref,
    team_ref,
    who,
)
from interop.terminology import display

# -- Patient, EpisodeOfCare, Condition -------------------------------------------------------


# Each language's label, as get_language_display() gives it without walking the choices.
_LANGUAGES: Final = dict(Language.choices)


def patient_resource(patient: Patient) -> Resource:
    telecom: list[dict[str, Any]] = []
    if patient.email:
        telecom.append(
            {
                "system": "email",
                "value": patient.email,
                "rank": 1 if patient.preferred_channel == "email" else 2,
            }
        )
    if patient.phone:
        telecom.append(
            {
                "system": "sms" if patient.sms_consent else "phone",
                "value": patient.phone,
                "rank": 1 if patient.preferred_channel == "sms" else 2,
                # Reminders go by SMS only with this consent (and never once opted out).
                "extension": [{"url": codes.EXT_SMS_CONSENT, "valueBoolean": patient.sms_consent}],
            }
        )
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": meta(patient.updated_at),
        "extension": [
            {"url": codes.EXT_TIMEZONE, "valueCode": patient.timezone},
            {"url": codes.EXT_OPTED_OUT, "valueBoolean": patient.opted_out},
        ],
        "active": True,
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
        "communication": [
            {
                "language": concept(
                    codes.BCP47,
                    patient.language,
                    _LANGUAGES.get(patient.language, patient.language),
                ),
                "preferred": True,
            }
        ],
        "managingOrganization": team_ref(patient.care_team_id),
    }
    if telecom:
        resource["telecom"] = telecom
    if patient.identifier_value:
        resource["identifier"] = [
            {
                "use": "usual",
                "type": concept(codes.IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": patient.identifier_system,
                "value": patient.identifier_value,
            }
        ]
    if patient.gender:
        resource["gender"] = patient.gender
    return resource


def episode_status(state: str) -> str:
    """EpisodeOfCare.status: every open pathway state is ``active``; both ends ``finished``."""
    return "finished" if State(state) in TERMINAL_STATES else "active"


# The columns episode_resource reads besides the id (and, through assigned_to, the care
# manager's name): a search selects these alone. With every column (twelve timestamps,
# each parsed in Python, and two JSON documents) and the patient joined, reading and
# rendering a page of 100 was 21 ms of CPU; with these, 11 ms.
EPISODE_FIELDS: Final = (
    "state",
    "enrolled_on",
    "state_changed_at",
    "updated_at",
    "conservative_care_start",
    "patient",
    "care_team",
    "assigned_to",
)


def episode_resource(episode: Episode) -> Resource:
    period: dict[str, str] = {"start": episode.enrolled_on.isoformat()}
    if State(episode.state) in TERMINAL_STATES:
        period["end"] = instant(episode.state_changed_at)
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(episode.pk),
        "meta": meta(episode.updated_at),
        "extension": [
            {"url": codes.EXT_STATE, "valueCoding": coding(codes.STATES, episode.state)},
            {"url": codes.EXT_CARE_START, "valueDate": episode.conservative_care_start.isoformat()},
        ],
        "status": episode_status(episode.state),
        "type": [
            concept(codes.PATHWAYS, "radiculopathy", display(codes.PATHWAYS, "radiculopathy"))
        ],
        "diagnosis": [{"condition": ref("Condition", episode.pk), "rank": 1}],
        "patient": ref("Patient", episode.patient_id),
        "managingOrganization": team_ref(episode.care_team_id),
        "period": period,
    }
    if episode.assigned_to_id is not None:
        resource["careManager"] = who(episode.assigned_to, "user")
    return resource


def condition_code() -> dict[str, Any]:
    code, display = codes.ICD10CM_LUMBOSACRAL
    return {
        "coding": [
            coding(codes.ICD10CM, code, display),
            coding(codes.SNOMED, *codes.SNOMED_LUMBOSACRAL_RADICULOPATHY),
        ],
        "text": codes.CONDITION_TEXT,
    }


def condition_code_for(episode: Episode) -> dict[str, Any]:
    """The episode's diagnosis as the referrer coded it; the pathway's codes if none was sent."""
    if not episode.condition_code:
        return condition_code()
    display = codes.ENROLLABLE_DISPLAY.get((episode.condition_system, episode.condition_code))
    return {
        "coding": [coding(episode.condition_system, episode.condition_code, display)],
        "text": display or codes.CONDITION_TEXT,
    }


# The columns condition_resource reads besides the id: a search selects these alone.
CONDITION_FIELDS: Final = (
    "state",
    "updated_at",
    "state_changed_at",
    "patient",
    "symptom_onset",
    "enrolled_on",
    "condition_code",
    "condition_system",
    "condition_notes",
)


def condition_resource(episode: Episode, *, abated: datetime | None = None) -> Resource:
    """The radiculopathy itself: one per episode, with the episode's id."""
    state = State(episode.state)
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(episode.pk),
        "meta": meta(episode.updated_at),
        "extension": [episode_ext(episode.pk)],
        "verificationStatus": concept(codes.CONDITION_VERIFICATION, "confirmed"),
        "category": [concept(codes.CONDITION_CATEGORY, "encounter-diagnosis")],
        "code": condition_code_for(episode),
        "subject": ref("Patient", episode.patient_id),
        "onsetDateTime": episode.symptom_onset.isoformat(),
        "recordedDate": episode.enrolled_on.isoformat(),
    }
    # A closed episode (withdrawn, transferred, lost to follow-up) says nothing about
    # whether the radiculopathy is still there: no clinical status then.
    if state == State.RESOLVED:
        resource["clinicalStatus"] = concept(codes.CONDITION_CLINICAL, "resolved")
        resource["abatementDateTime"] = instant(abated or episode.state_changed_at)
    elif state != State.CLOSED:
        resource["clinicalStatus"] = concept(codes.CONDITION_CLINICAL, "active")
    if episode.condition_notes:
        resource["note"] = [{"text": text} for text in episode.condition_notes]
    return resource


# -- Flag, Observation, DiagnosticReport ------------------------------------------------------


def _sign_code(sign: str) -> dict[str, Any]:
    """The sign in careflow's code system, with SNOMED CT beside it where it is verified."""
    code = concept(codes.SIGNS, sign, display(codes.SIGNS, sign))
    standard = codes.SIGN_SNOMED.get(sign)
    if standard is not None:
        code["coding"].append(coding(codes.SNOMED, *standard))
    return code


def flag_resource(flag: RedFlag, *, patient_id: int) -> Resource:
    period: dict[str, str] = {"start": instant(flag.raised_at)}
    if flag.ruled_out_at is not None:
        period["end"] = instant(flag.ruled_out_at)
    return {
        "resourceType": "Flag",
        "id": str(flag.pk),
        "meta": meta(flag.ruled_out_at or flag.raised_at),
        "extension": [episode_ext(flag.episode_id)],
        "status": "active" if flag.status == RedFlagStatus.ACTIVE else "inactive",
        "category": [
            concept(codes.FLAG_CATEGORY, "clinical", "Clinical"),
            concept(codes.RULES, flag.category, display(codes.RULES, flag.category)),
        ],
        "code": _sign_code(flag.sign),
        "subject": ref("Patient", patient_id),
        "period": period,
        "author": who(flag.raised_by, flag.source),
    }


def observation_id(assessment_id: int, fact: str) -> str:
    return f"{assessment_id}-{fact_id(fact)}"


def fact_id(fact: str) -> str:
    return fhir_id(fact)


def observation_resources(
    assessment: Assessment, *, patient_id: int, facts: set[str] | None = None
) -> list[Resource]:
    """One Observation per fact an assessment recorded (``facts``: of these facts only)."""
    out = []
    recorded = instant(assessment.recorded_at)
    for fact, value in sorted(assessment.values.items()):
        if facts is not None and fact not in facts:
            continue
        resource: Resource = {
            "resourceType": "Observation",
            "id": observation_id(assessment.pk, fact),
            "meta": {"lastUpdated": recorded},
            "extension": [episode_ext(assessment.episode_id)],
            "status": "final",
            "category": [concept(codes.OBSERVATION_CATEGORY, "exam", "Exam")],
            "code": concept(codes.FACTS, fact, display(codes.FACTS, fact)),
            "subject": ref("Patient", patient_id),
            "effectiveDateTime": recorded,
            "performer": [
                ref("Patient", patient_id)
                if assessment.source == "patient"
                else who(assessment.recorded_by, assessment.source)
            ],
            "valueBoolean": bool(value),
        }
        if assessment.note:
            resource["note"] = [{"text": assessment.note}]
        out.append(resource)
    return out


def imaging_resource(study: ImagingStudy, *, patient_id: int) -> Resource:
    """Imaging as a DiagnosticReport: careflow records findings, not DICOM series."""
    found = (
        "nerve-root compression" if study.nerve_root_compression else "no nerve-root compression"
    )
    if study.level:
        found += f" at {study.level}"
    correlated = "clinically correlated" if study.clinically_correlated else "not correlated"
    conclusion_codes = [
        concept(codes.IMAGING, code, display(codes.IMAGING, code))
        for code in (
            "nerve-root-compression" if study.nerve_root_compression else "no-compression",
            "clinically-correlated" if study.clinically_correlated else "not-correlated",
        )
    ]
    return {
        "resourceType": "DiagnosticReport",
        "id": str(study.pk),
        "meta": meta(study.recorded_at),
        "extension": [episode_ext(study.episode_id)],
        "status": "final",
        "category": [concept(codes.DIAGNOSTIC_SECTION, "RAD", "Radiology")],
        "code": concept(codes.IMAGING, study.modality, display(codes.IMAGING, study.modality)),
        "subject": ref("Patient", patient_id),
        "effectiveDateTime": study.performed_on.isoformat(),
        "issued": instant(study.recorded_at),
        "performer": [who(study.recorded_by, "user")],
        "conclusion": f"{found}; {correlated}",
        "conclusionCode": conclusion_codes,
    }
