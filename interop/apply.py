"""``PlanDefinition/radiculopathy/$apply``: what the pathway asks now of one patient's episode.

The answer is computed by careflow itself, as the workspace's episode page computes it
(``episodes.selectors.episode_pathway_view``): the episode's facts read once
(``episode_facts``), the patient's today, ``careflow.deadlines.next_actions`` and each
transition's guard (``careflow.guards.evaluate``) from the episode's state. Nothing is
decided here; this module only says it in FHIR R4B: a CarePlan (``intent: proposal``)
whose one activity is a contained RequestGroup with three groups of actions:

    next       the next actions, most pressing first (priority, due date, rule)
    allowed    the transitions whose guard passes now
    blocked    the transitions whose guard fails, each failing rule an applicability
               condition (``text/cql-identifier``: the rule ID; its description: the
               reason in words, with the date it opens on when it is a time gate)

Action ids are the PlanDefinition's (``<state>.<transition>``), so a client can match each
one to the definition it came from. Nothing is written: ``$apply`` proposes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from careflow.deadlines import NextAction, next_actions
from careflow.facts import Facts
from careflow.guards import Reason, evaluate, required_referral_urgency
from careflow.rules import PATHWAY_VERSION
from careflow.states import State, TransitionName, TransitionSpec, transitions_from
from episodes.models import Episode
from interop import codes
from interop.pathway import rule_texts, transition_action_id
from interop.resources import Resource, coding, concept, fhir_id, instant, ref
from interop.resources.common import episode_ext, team_ref
from interop.terminology import display

REQUEST_GROUP_ID: Final = "pathway-now"
# The rule language of the PlanDefinition's conditions (interop/pathway.py): a condition's
# expression is the rule ID, which careflow evaluates here.
RULE_LANGUAGE: Final = "text/cql-identifier"


def _rule(rule: str) -> dict[str, Any]:
    return concept(codes.RULES, rule, rule_texts().get(rule) or None)


def _priority(action: NextAction, today: date) -> str:
    """As a Task's (interop/resources/care.py): stat for the urgent, urgent when overdue."""
    if action.urgent:
        return "stat"
    return "urgent" if action.due < today else "routine"


def _next_action(action: NextAction, today: date) -> dict[str, Any]:
    words = display(codes.ACTIONS, action.action)
    overdue = ", overdue" if action.due < today else ""
    return {
        "id": f"next.{fhir_id(action.action)}",
        "title": words,
        "description": f"{action.rule}: {rule_texts().get(action.rule, '')}".rstrip(": ")
        + f" (due {action.due.isoformat()}{overdue})",
        "priority": _priority(action, today),
        "code": [concept(codes.ACTIONS, action.action, words), _rule(action.rule)],
        "timingDateTime": action.due.isoformat(),
    }


def _condition(reason: Reason) -> dict[str, Any]:
    text = reason.message
    if reason.opens_on is not None and reason.opens_on.isoformat() not in text:
        text += f" (opens on {reason.opens_on.isoformat()})"
    return {
        "kind": "applicability",
        "expression": {
            "description": f"{reason.rule}: {text}",
            "language": RULE_LANGUAGE,
            "expression": reason.rule,
        },
    }


def _transition(
    spec: TransitionSpec, state: State, facts: Facts, reasons: list[Reason]
) -> dict[str, Any]:
    target = spec.target_for(referral_made=facts.referral_made_on is not None)
    words = display(codes.TRANSITIONS, spec.name.value)
    action: dict[str, Any] = {
        "id": transition_action_id(state, spec.name),
        "title": words,
        "code": [concept(codes.TRANSITIONS, spec.name.value, words)],
    }
    to = display(codes.STATES, target.value)
    if reasons:
        rules_cited = ", ".join(dict.fromkeys(r.rule for r in reasons))
        action["description"] = f"Blocked ({rules_cited}): would lead to {to.lower()}."
        action["textEquivalent"] = "; ".join(f"{r.rule}: {r.message}" for r in reasons)
        action["condition"] = [_condition(r) for r in reasons]
    else:
        action["description"] = f"Allowed now: leads to {to.lower()}."
        required = (
            required_referral_urgency(facts)
            if spec.name == TransitionName.REFER_TO_SPECIALIST
            else None
        )
        if required is not None:
            urgency, rule = required
            action["description"] += (
                f" The referral must be {urgency.replace('_', ' ')} ({rule}); a lower urgency "
                "is refused."
            )
            action["code"].append(_rule(rule))
    # Closing an episode with an active red flag is a clinician's decision, as the services
    # and the episode page hold it.
    clinician = spec.clinician_only or (
        spec.name == TransitionName.CLOSE and facts.has_active_red_flag
    )
    if clinician:
        # RequestGroup's participant is a Reference: who, by role, as display only.
        action["participant"] = [{"display": "a clinician of the care team"}]
    return action


def _group(action_id: str, title: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    group: dict[str, Any] = {"id": action_id, "title": title, "groupingBehavior": "logical-group"}
    if actions:
        group["action"] = actions
    return group


def apply_plan(episode: Episode, facts: Facts, today: date, now: datetime) -> Resource:
    """The CarePlan (with its RequestGroup contained) for an open episode, as of ``today``."""
    state = State(episode.state)
    allowed, blocked = [], []
    for spec in transitions_from(state):
        reasons = evaluate(spec.name, facts, today)
        (blocked if reasons else allowed).append(_transition(spec, state, facts, reasons))
    subject = ref("Patient", episode.patient_id)
    request_group: Resource = {
        "resourceType": "RequestGroup",
        "id": REQUEST_GROUP_ID,
        "instantiatesCanonical": [codes.PLAN_DEFINITION],
        "status": "active",
        "intent": "proposal",
        "subject": subject,
        "authoredOn": instant(now),
        "note": [
            {
                "text": (
                    f"Pathway version {PATHWAY_VERSION}; state "
                    f"{display(codes.STATES, state.value).lower()}; the patient's today "
                    f"{today.isoformat()}."
                )
            }
        ],
        "action": [
            _group(
                "next",
                "What the pathway asks now",
                [_next_action(a, today) for a in next_actions(state, facts, today)],
            ),
            _group("allowed", "Transitions allowed now", allowed),
            _group("blocked", "Transitions blocked now, with the rules that block them", blocked),
        ],
    }
    return {
        "resourceType": "CarePlan",
        "contained": [request_group],
        "extension": [
            episode_ext(episode.pk),
            {"url": codes.EXT_STATE, "valueCoding": coding(codes.STATES, state.value)},
        ],
        "instantiatesCanonical": [codes.PLAN_DEFINITION],
        "status": "active",
        "intent": "proposal",
        "title": "What the radiculopathy pathway asks now",
        "subject": subject,
        "period": {"start": today.isoformat()},
        "created": instant(now),
        "author": team_ref(episode.care_team_id),
        "addresses": [ref("Condition", episode.pk)],
        "activity": [{"reference": {"reference": f"#{REQUEST_GROUP_ID}"}}],
    }
