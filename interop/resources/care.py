"""CarePlan, Task (careflow's next actions) and Provenance (the transition log)."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any, Final

from careflow.careplan import CATALOGUE, Category
from careflow.deadlines import NextAction
from careflow.states import State
from episodes.models import (
    CarePlanItem,
    Episode,
    TransitionLog,
)
from interop import codes
from interop.resources.common import (
    Resource,
    coding,
    concept,
    episode_ext,
    fhir_id,
    instant,
    local_day,
    meta,
    ref,
    team_ref,
    who,
)
from interop.terminology import display

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
        "code": concept(codes.PLAN_ITEMS, item.item, display(codes.PLAN_ITEMS, item.item)),
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
            for k, v in (("start", local_day(item.started_on)), ("end", local_day(item.ended_on)))
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


# The columns careplan_resource reads of an episode besides the id: a search selects these
# alone (and the patient's time zone, for the patient's today).
CAREPLAN_FIELDS: Final = (
    "state",
    "updated_at",
    "patient",
    "conservative_care_start",
)


def careplan_resource(episode: Episode, items: list[CarePlanItem], today: date) -> Resource:
    """The episode's care plan: one per episode, with the episode's id."""
    updated = max([episode.updated_at, *(i.recorded_at for i in items)])
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": str(episode.pk),
        "meta": meta(updated),
        "extension": [episode_ext(episode.pk)],
        # The PlanDefinition's canonical without ``|version``: the one version served says
        # which it is in its own ``version`` element, and offline engines resolve it as is.
        "instantiatesCanonical": [codes.PLAN_DEFINITION],
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
        "meta": meta(episode.updated_at),
        "instantiatesCanonical": codes.PLAN_DEFINITION,
        "status": "ready",
        "intent": "plan",
        "priority": _task_priority(action, today),
        "code": concept(codes.ACTIONS, action.action, display(codes.ACTIONS, action.action)),
        "focus": ref("EpisodeOfCare", episode.pk),
        "for": ref("Patient", episode.patient_id),
        "authoredOn": instant(episode.updated_at),
        "reasonCode": concept(codes.RULES, action.rule),
        "restriction": {"period": {"end": action.due.isoformat()}},
        "owner": team_ref(episode.care_team_id),
    }


def task_done_resource(episode: Episode, action: str) -> Resource:
    """A next action careflow no longer lists: met (``completed``) or moot (``cancelled``).

    Careflow computes its next actions and keeps no history of them, so this is all it can
    say of one that was open: the episode's pathway no longer asks for it (``completed``),
    or the episode was closed first (``cancelled``). A worklist can tell "done" from "gone".
    """
    closed = State(episode.state) == State.CLOSED
    resource: Resource = {
        "resourceType": "Task",
        "id": task_id(episode.pk, action),
        "meta": meta(episode.updated_at),
        "instantiatesCanonical": codes.PLAN_DEFINITION,
        "status": "cancelled" if closed else "completed",
        "intent": "plan",
        "code": concept(codes.ACTIONS, action, display(codes.ACTIONS, action)),
        "focus": ref("EpisodeOfCare", episode.pk),
        "for": ref("Patient", episode.patient_id),
        "lastModified": instant(episode.updated_at),
        "owner": team_ref(episode.care_team_id),
    }
    if closed:
        resource["statusReason"] = {"text": "the episode was closed"}
    return resource


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
    performer = (
        who(log.by, log.source)
        if log.by_id is not None or log.source != "patient"
        else {"display": "patient"}
    )
    return {
        "resourceType": "Provenance",
        "id": str(log.pk),
        "meta": meta(log.at),
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
        "activity": concept(
            codes.TRANSITIONS, log.transition, display(codes.TRANSITIONS, log.transition)
        ),
        "agent": [
            {
                "type": concept(codes.PROVENANCE_ROLE, "performer", "Performer"),
                "who": performer,
            }
        ],
        "entity": [
            {
                "role": "source",
                "what": {"reference": "#facts", "display": "facts evaluated by the guard"},
            }
        ],
    }
