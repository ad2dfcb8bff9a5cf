"""Careflow rows as FHIR R4B resources (plain JSON dicts; tests validate them with fhir.resources).

One function per resource type, ``<type>_resource(row, ...)``: no queries of their own
beyond what the caller prefetched, so a list or a Bundle costs what its selector costs.
Ids: a resource that is one row uses the row's id; one that is derived from a row uses
``<row id>-<code>`` (FHIR ids allow letters, digits, ``-`` and ``.``, not ``_``).
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any, Final

from careflow.careplan import CATALOGUE, Category
from careflow.checkin import Overall, Symptom
from careflow.deadlines import Milestone, NextAction
from careflow.redflags import CATEGORY_LABEL
from careflow.rules import PATHWAY_VERSION
from careflow.states import TERMINAL_STATES, State
from episodes.models import (
    Assessment,
    CarePlanItem,
    Episode,
    ImagingStudy,
    Patient,
    RedFlag,
    RedFlagStatus,
    TransitionLog,
)
from interop import codes
from notifications.models import (
    AttemptOutcome,
    CheckIn,
    DeliveryAttempt,
    Reminder,
    ReminderStatus,
)

Resource = dict[str, Any]


def fhir_id(value: str) -> str:
    """A careflow code as a FHIR id fragment (``radicular_pain`` -> ``radicular-pain``)."""
    return value.replace("_", "-").replace(":", "-")


def instant(moment: datetime) -> str:
    """An aware datetime as a FHIR instant (Django stores them in UTC)."""
    return moment.isoformat()


def _meta(updated: datetime) -> dict[str, str]:
    return {"lastUpdated": instant(updated)}


def ref(resource_type: str, resource_id: object, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, text)]}
    if text:
        out["text"] = text
    return out


def _episode_ext(episode_id: int) -> dict[str, Any]:
    return {"url": codes.EXT_EPISODE, "valueReference": ref("EpisodeOfCare", episode_id)}


def _team_ref(team_id: int, name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"identifier": {"system": codes.CARE_TEAMS, "value": str(team_id)}}
    if name:
        out["display"] = name
    return out


def _who(user: Any, source: str) -> dict[str, str]:  # noqa: ANN401 - any auth user, or None
    """Who did it, as a display-only reference (careflow does not serve Practitioner)."""
    if user is not None:
        return {"display": user.get_username()}
    return {"display": f"careflow ({source})"}


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# -- Patient, EpisodeOfCare, Condition -------------------------------------------------------


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
        "meta": _meta(patient.updated_at),
        "extension": [
            {"url": codes.EXT_TIMEZONE, "valueCode": patient.timezone},
            {"url": codes.EXT_OPTED_OUT, "valueBoolean": patient.opted_out},
        ],
        "active": True,
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
        "communication": [
            {
                "language": concept(codes.BCP47, patient.language, patient.get_language_display()),
                "preferred": True,
            }
        ],
        "managingOrganization": _team_ref(patient.care_team_id),
    }
    if telecom:
        resource["telecom"] = telecom
    return resource


def episode_status(state: str) -> str:
    """EpisodeOfCare.status: every open pathway state is ``active``; both ends ``finished``."""
    return "finished" if State(state) in TERMINAL_STATES else "active"


def episode_resource(episode: Episode) -> Resource:
    period: dict[str, str] = {"start": episode.enrolled_on.isoformat()}
    if State(episode.state) in TERMINAL_STATES:
        period["end"] = instant(episode.state_changed_at)
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(episode.pk),
        "meta": _meta(episode.updated_at),
        "extension": [
            {"url": codes.EXT_STATE, "valueCoding": coding(codes.STATES, episode.state)},
            {"url": codes.EXT_CARE_START, "valueDate": episode.conservative_care_start.isoformat()},
        ],
        "status": episode_status(episode.state),
        "type": [concept(codes.PLAN_DEFINITION, "radiculopathy", "Radiculopathy pathway")],
        "diagnosis": [{"condition": ref("Condition", episode.pk), "rank": 1}],
        "patient": ref("Patient", episode.patient_id),
        "managingOrganization": _team_ref(episode.care_team_id),
        "period": period,
    }
    if episode.assigned_to_id is not None:
        resource["careManager"] = _who(episode.assigned_to, "user")
    return resource


def condition_code() -> dict[str, Any]:
    code, display = codes.ICD10CM_LUMBOSACRAL
    return {
        "coding": [
            coding(codes.ICD10CM, code, display),
            coding(codes.SNOMED, *codes.SNOMED_LUMBAR_RADICULOPATHY),
        ],
        "text": codes.CONDITION_TEXT,
    }


def condition_resource(episode: Episode, *, abated: datetime | None = None) -> Resource:
    """The radiculopathy itself: one per episode, with the episode's id."""
    state = State(episode.state)
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(episode.pk),
        "meta": _meta(episode.updated_at),
        "extension": [_episode_ext(episode.pk)],
        "verificationStatus": concept(codes.CONDITION_VERIFICATION, "confirmed"),
        "category": [concept(codes.CONDITION_CATEGORY, "encounter-diagnosis")],
        "code": condition_code(),
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
    return resource


# -- Flag, Observation, DiagnosticReport ------------------------------------------------------


def flag_resource(flag: RedFlag, *, patient_id: int) -> Resource:
    period: dict[str, str] = {"start": instant(flag.raised_at)}
    if flag.ruled_out_at is not None:
        period["end"] = instant(flag.ruled_out_at)
    return {
        "resourceType": "Flag",
        "id": str(flag.pk),
        "meta": _meta(flag.ruled_out_at or flag.raised_at),
        "extension": [_episode_ext(flag.episode_id)],
        "status": "active" if flag.status == RedFlagStatus.ACTIVE else "inactive",
        "category": [
            concept(codes.FLAG_CATEGORY, "clinical", "Clinical"),
            concept(codes.RULES, flag.category, CATEGORY_LABEL.get(flag.category)),
        ],
        "code": concept(codes.SIGNS, flag.sign, flag.sign.replace("_", " ")),
        "subject": ref("Patient", patient_id),
        "period": period,
        "author": _who(flag.raised_by, flag.source),
    }


def observation_id(assessment_id: int, fact: str) -> str:
    return f"{assessment_id}-{fact_id(fact)}"


def fact_id(fact: str) -> str:
    return fhir_id(fact)


def observation_resources(assessment: Assessment, *, patient_id: int) -> list[Resource]:
    """One Observation per fact an assessment recorded."""
    out = []
    for fact, value in sorted(assessment.values.items()):
        resource: Resource = {
            "resourceType": "Observation",
            "id": observation_id(assessment.pk, fact),
            "meta": _meta(assessment.recorded_at),
            "extension": [_episode_ext(assessment.episode_id)],
            "status": "final",
            "category": [concept(codes.OBSERVATION_CATEGORY, "exam", "Exam")],
            "code": concept(codes.FACTS, fact, fact.replace("_", " ")),
            "subject": ref("Patient", patient_id),
            "effectiveDateTime": instant(assessment.recorded_at),
            "performer": [
                ref("Patient", patient_id)
                if assessment.source == "patient"
                else _who(assessment.recorded_by, assessment.source)
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
        concept(
            codes.IMAGING,
            "nerve-root-compression" if study.nerve_root_compression else "no-compression",
        ),
        concept(
            codes.IMAGING,
            "clinically-correlated" if study.clinically_correlated else "not-correlated",
        ),
    ]
    return {
        "resourceType": "DiagnosticReport",
        "id": str(study.pk),
        "meta": _meta(study.recorded_at),
        "extension": [_episode_ext(study.episode_id)],
        "status": "final",
        "category": [concept(codes.DIAGNOSTIC_SECTION, "RAD", "Radiology")],
        "code": concept(codes.IMAGING, study.modality, study.modality.replace("_", " ")),
        "subject": ref("Patient", patient_id),
        "effectiveDateTime": study.performed_on.isoformat(),
        "issued": instant(study.recorded_at),
        "performer": [_who(study.recorded_by, "user")],
        "conclusion": f"{found}; {correlated}",
        "conclusionCode": conclusion_codes,
    }


# -- CarePlan, Task ---------------------------------------------------------------------------

_PLAN_KIND: Final[dict[str, str]] = {
    Category.MEDICATION: "MedicationRequest",
    Category.PHYSICAL_THERAPY: "ServiceRequest",
    Category.INTERVENTIONAL: "ServiceRequest",
    Category.EDUCATION: "CommunicationRequest",
}


def _activity_status(item: CarePlanItem, today: date) -> str:
    if item.ended_on is not None and item.ended_on <= today:
        return "completed"
    if item.started_on is not None and item.started_on <= today:
        return "in-progress"
    return "not-started"


def _activity(item: CarePlanItem, today: date) -> dict[str, Any]:
    entry = CATALOGUE.get(item.item)
    detail: dict[str, Any] = {
        "code": concept(codes.PLAN_ITEMS, item.item, item.item.replace("_", " ")),
        "status": _activity_status(item, today),
        "description": entry.evidence if entry else item.item,
        # CC-3 / RFA-1 concerns are flags, never refusals: each rides on its activity.
        "extension": [
            {
                "url": codes.EXT_CONCERN,
                "extension": [
                    {"url": "rule", "valueCoding": coding(codes.RULES, flag["rule"])},
                    {"url": "message", "valueString": flag["message"]},
                ],
            }
            for flag in item.flags
        ],
    }
    if not detail["extension"]:
        del detail["extension"]
    kind = _PLAN_KIND.get(item.category)
    if kind:
        detail["kind"] = kind
    if entry:
        detail["reasonCode"] = [concept(codes.RULES, entry.rule)]
    if item.started_on or item.ended_on:
        detail["scheduledPeriod"] = {
            k: v
            for k, v in (("start", _day(item.started_on)), ("end", _day(item.ended_on)))
            if v is not None
        }
    activity: dict[str, Any] = {"detail": detail}
    if item.note:
        activity["progress"] = [{"text": item.note}]
    return activity


def careplan_status(state: str) -> str:
    state = State(state)
    if state == State.RESOLVED:
        return "completed"
    if state == State.CLOSED:
        return "revoked"
    return "active"


def careplan_resource(episode: Episode, items: list[CarePlanItem], today: date) -> Resource:
    """The episode's care plan: one per episode, with the episode's id."""
    updated = max([episode.updated_at, *(i.recorded_at for i in items)])
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": str(episode.pk),
        "meta": _meta(updated),
        "extension": [_episode_ext(episode.pk)],
        "instantiatesCanonical": [f"{codes.PLAN_DEFINITION}|{PATHWAY_VERSION}"],
        "status": careplan_status(episode.state),
        "intent": "plan",
        "title": "Conservative care plan",
        "subject": ref("Patient", episode.patient_id),
        "period": {"start": episode.conservative_care_start.isoformat()},
        "addresses": [ref("Condition", episode.pk)],
    }
    activities = [_activity(item, today) for item in items]
    if activities:
        resource["activity"] = activities
    return resource


def task_id(episode_id: int, action: str) -> str:
    return f"{episode_id}-{fhir_id(action)}"


def _task_priority(action: NextAction, today: date) -> str:
    """The Task's priority: ``stat``, ``urgent`` or ``routine``.

    ``stat`` for the urgent actions (PATHWAY.md "Next actions"), ``urgent`` for an overdue
    routine one. https://hl7.org/fhir/R4/valueset-request-priority.html
    """
    if action.urgent:
        return "stat"
    return "urgent" if action.due < today else "routine"


def task_resource(episode: Episode, action: NextAction, today: date) -> Resource:
    """A next action (or deadline) careflow computes: always open, due on its date."""
    return {
        "resourceType": "Task",
        "id": task_id(episode.pk, action.action),
        "meta": _meta(episode.updated_at),
        "instantiatesCanonical": f"{codes.PLAN_DEFINITION}|{PATHWAY_VERSION}",
        "status": "ready",
        "intent": "plan",
        "priority": _task_priority(action, today),
        "code": concept(codes.ACTIONS, action.action, action.action.replace("_", " ")),
        "focus": ref("EpisodeOfCare", episode.pk),
        "for": ref("Patient", episode.patient_id),
        "authoredOn": instant(episode.updated_at),
        "reasonCode": concept(codes.RULES, action.rule),
        "restriction": {"period": {"end": action.due.isoformat()}},
        "owner": _team_ref(episode.care_team_id),
    }


# -- CommunicationRequest, Communication ------------------------------------------------------

_REQUEST_STATUS: Final = {
    ReminderStatus.SCHEDULED: "active",
    ReminderStatus.SENDING: "active",
    ReminderStatus.SENT: "completed",
    ReminderStatus.FAILED: "revoked",
    ReminderStatus.CANCELLED: "revoked",
    ReminderStatus.SKIPPED: "revoked",
}
_MODE: Final = {"email": ("EMAILWRIT", "email"), "sms": ("SMSWRIT", "SMS message")}


def _recipient(reminder: Reminder, patient_id: int, team_id: int) -> dict[str, Any]:
    return ref("Patient", patient_id) if reminder.audience == "patient" else _team_ref(team_id)


def _milestone_reason(reminder: Reminder) -> dict[str, Any]:
    if reminder.milestone in Milestone.__members__.values():
        return concept(codes.MILESTONES, reminder.milestone)
    return concept(codes.MILESTONES, "red-flag-alert", "red flag alert")


def communication_request_resource(
    reminder: Reminder, *, patient_id: int, team_id: int
) -> Resource:
    mode, mode_text = _MODE[reminder.channel]
    resource: Resource = {
        "resourceType": "CommunicationRequest",
        "id": str(reminder.pk),
        "meta": _meta(reminder.updated_at),
        "extension": [_episode_ext(reminder.episode_id)],
        "status": _REQUEST_STATUS.get(ReminderStatus(reminder.status), "unknown"),
        "category": [
            concept(
                codes.COMMUNICATION_CATEGORY,
                "reminder" if reminder.audience == "patient" else "alert",
            )
        ],
        "subject": ref("Patient", patient_id),
        "medium": [concept(codes.PARTICIPATION_MODE, mode, mode_text)],
        "recipient": [_recipient(reminder, patient_id, team_id)],
        "occurrenceDateTime": instant(reminder.due_at),
        "authoredOn": instant(reminder.created_at),
        "reasonCode": [_milestone_reason(reminder)],
    }
    if reminder.status_reason:
        resource["statusReason"] = {"text": reminder.status_reason}
    return resource


_ATTEMPT_STATUS: Final = {
    AttemptOutcome.IN_FLIGHT: "in-progress",
    AttemptOutcome.SENT: "completed",
    AttemptOutcome.TRANSIENT_ERROR: "stopped",
    AttemptOutcome.PERMANENT_ERROR: "stopped",
    AttemptOutcome.INTERRUPTED: "unknown",
}


def communication_resource(
    attempt: DeliveryAttempt, reminder: Reminder, *, patient_id: int, team_id: int
) -> Resource:
    """One delivery attempt; the provider's error text stays out (it may quote the message)."""
    mode, mode_text = _MODE[attempt.channel]
    resource: Resource = {
        "resourceType": "Communication",
        "id": str(attempt.pk),
        "meta": _meta(attempt.finished_at or attempt.at),
        "extension": [_episode_ext(reminder.episode_id)],
        "basedOn": [ref("CommunicationRequest", reminder.pk)],
        "status": _ATTEMPT_STATUS.get(AttemptOutcome(attempt.outcome), "unknown"),
        "category": [
            concept(
                codes.COMMUNICATION_CATEGORY,
                "reminder" if reminder.audience == "patient" else "alert",
            )
        ],
        "medium": [concept(codes.PARTICIPATION_MODE, mode, mode_text)],
        "subject": ref("Patient", patient_id),
        "recipient": [_recipient(reminder, patient_id, team_id)],
        "reasonCode": [_milestone_reason(reminder)],
    }
    if attempt.outcome == AttemptOutcome.SENT:
        resource["sent"] = instant(attempt.finished_at or attempt.at)
    if attempt.outcome != AttemptOutcome.SENT:
        resource["statusReason"] = {"text": attempt.outcome.replace("_", " ")}
    return resource


# -- Questionnaire, QuestionnaireResponse -----------------------------------------------------


def questionnaire_id(milestone: str) -> str:
    return f"checkin-{fhir_id(milestone)}"


def _checkin_items() -> list[dict[str, Any]]:
    return [
        {
            "linkId": "overall",
            "text": "How is your back and leg pain overall?",
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": coding(codes.BASE + "/CodeSystem/overall", o)} for o in Overall
            ],
        },
        {
            "linkId": "disabling_pain",
            "text": "Does the pain stop you doing your usual activities?",
            "type": "boolean",
            "required": True,
        },
        {
            "linkId": "symptoms",
            "text": "Do you have any of these new symptoms?",
            "type": "choice",
            "repeats": True,
            "required": False,
            "answerOption": [
                {"valueCoding": coding(codes.BASE + "/CodeSystem/checkin-symptoms", s)}
                for s in Symptom
            ],
        },
    ]


def questionnaire_resource(milestone: Milestone, *, published: datetime) -> Resource:
    """The check-in asked at one milestone (the same three questions at each)."""
    qid = questionnaire_id(milestone)
    return {
        "resourceType": "Questionnaire",
        "id": qid,
        "meta": _meta(published),
        "url": f"{codes.QUESTIONNAIRE}/{qid}",
        "version": PATHWAY_VERSION,
        "name": f"CheckIn{qid.title().replace('-', '')}",
        "title": f"Check-in at {milestone.value.replace('_', ' ')}",
        "status": "active",
        "subjectType": ["Patient"],
        "code": [coding(codes.MILESTONES, milestone.value)],
        "item": _checkin_items(),
    }


def questionnaire_response_resource(
    checkin: CheckIn, reminder: Reminder, *, patient_id: int
) -> Resource:
    milestone = reminder.milestone
    if milestone not in Milestone.__members__.values():
        milestone = Milestone.TWO_WEEKS.value  # unreachable: check-ins ride on patient reminders
    qid = questionnaire_id(milestone)
    overall_system = codes.BASE + "/CodeSystem/overall"
    symptom_system = codes.BASE + "/CodeSystem/checkin-symptoms"
    items: list[dict[str, Any]] = [
        {"linkId": "overall", "answer": [{"valueCoding": coding(overall_system, checkin.overall)}]},
        {"linkId": "disabling_pain", "answer": [{"valueBoolean": checkin.disabling_pain}]},
    ]
    if checkin.symptoms:
        items.append(
            {
                "linkId": "symptoms",
                "answer": [{"valueCoding": coding(symptom_system, s)} for s in checkin.symptoms],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(checkin.pk),
        "meta": _meta(checkin.corrected_at or checkin.submitted_at),
        "extension": [_episode_ext(checkin.episode_id)],
        "questionnaire": f"{codes.QUESTIONNAIRE}/{qid}|{PATHWAY_VERSION}",
        "status": "amended" if checkin.corrections else "completed",
        "subject": ref("Patient", patient_id),
        "authored": instant(checkin.corrected_at or checkin.submitted_at),
        "author": ref("Patient", patient_id),
        "source": ref("Patient", patient_id),
        "item": items,
    }


# -- Provenance -------------------------------------------------------------------------------


def provenance_resource(log: TransitionLog) -> Resource:
    """A transition: who, when, which, and the facts it was decided on (a contained Binary)."""
    snapshot = json.dumps(
        {
            "facts": log.facts_snapshot,
            "evaluated_on": log.evaluated_on.isoformat(),
            "pathway_version": log.pathway_version,
            "from": log.from_state,
            "to": log.to_state,
        },
        sort_keys=True,
    )
    who = (
        _who(log.by, log.source)
        if log.by_id is not None or log.source != "patient"
        else {"display": "patient"}
    )
    return {
        "resourceType": "Provenance",
        "id": str(log.pk),
        "meta": _meta(log.at),
        "contained": [
            {
                "resourceType": "Binary",
                "id": "facts",
                "contentType": "application/json",
                "data": base64.b64encode(snapshot.encode()).decode(),
            }
        ],
        "target": [ref("EpisodeOfCare", log.episode_id)],
        "occurredDateTime": instant(log.at),
        "recorded": instant(log.at),
        "policy": [f"{codes.PLAN_DEFINITION}|{log.pathway_version}"],
        "activity": concept(codes.TRANSITIONS, log.transition, log.transition.replace("_", " ")),
        "agent": [
            {
                "type": concept(codes.PROVENANCE_ROLE, "performer", "Performer"),
                "who": who,
            }
        ],
        "entity": [
            {
                "role": "source",
                "what": {"reference": "#facts", "display": "facts evaluated by the guard"},
            }
        ],
    }
