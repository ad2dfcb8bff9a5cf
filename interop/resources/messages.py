"""Reminders and check-ins: CommunicationRequest, Communication, Questionnaire(Response)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from careflow.checkin import Overall, Symptom
from careflow.deadlines import Milestone
from careflow.rules import PATHWAY_VERSION
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
)
from interop.terminology import RED_FLAG_ALERT, display
from notifications.models import (
    AttemptOutcome,
    CheckIn,
    DeliveryAttempt,
    Reminder,
    ReminderStatus,
)

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
    return ref("Patient", patient_id) if reminder.audience == "patient" else team_ref(team_id)


def _milestone_reason(reminder: Reminder) -> dict[str, Any]:
    milestone = reminder.milestone
    code = milestone if milestone in Milestone.__members__.values() else RED_FLAG_ALERT
    return concept(codes.MILESTONES, code, display(codes.MILESTONES, code))


def communication_request_resource(
    reminder: Reminder, *, patient_id: int, team_id: int
) -> Resource:
    mode, mode_text = _MODE[reminder.channel]
    resource: Resource = {
        "resourceType": "CommunicationRequest",
        "id": str(reminder.pk),
        "meta": meta(reminder.updated_at),
        "extension": [episode_ext(reminder.episode_id)],
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
        "meta": meta(attempt.finished_at or attempt.at),
        "extension": [episode_ext(reminder.episode_id)],
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
            "answerOption": [{"valueCoding": coding(codes.OVERALL, o)} for o in Overall],
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
            "answerOption": [{"valueCoding": coding(codes.CHECKIN_SYMPTOMS, s)} for s in Symptom],
        },
    ]


def questionnaire_resource(milestone: Milestone, *, published: datetime) -> Resource:
    """The check-in asked at one milestone (the same three questions at each)."""
    qid = questionnaire_id(milestone)
    return {
        "resourceType": "Questionnaire",
        "id": qid,
        "meta": meta(published),
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
    overall_system = codes.OVERALL
    symptom_system = codes.CHECKIN_SYMPTOMS
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
        "meta": meta(checkin.corrected_at or checkin.submitted_at),
        "extension": [episode_ext(checkin.episode_id)],
        "questionnaire": f"{codes.QUESTIONNAIRE}/{qid}",
        "status": "amended" if checkin.corrections else "completed",
        "subject": ref("Patient", patient_id),
        "authored": instant(checkin.corrected_at or checkin.submitted_at),
        "author": ref("Patient", patient_id),
        "source": ref("Patient", patient_id),
        "item": items,
    }
