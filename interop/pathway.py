"""The pathway as a FHIR PlanDefinition, generated from careflow's own tables.

Nothing here is written by hand: the states and transitions come from
``careflow.states.TRANSITIONS``, each guard's rule IDs from running the guard itself
(``careflow.guards.GUARDS``) on facts that fail every rule it can cite, each rule's text
from ``careflow/rules.py`` (the comment beside its constant), the guards' descriptions
from their docstrings, the red flags from ``careflow.redflags`` and the milestones from
``careflow.deadlines.milestones``. A rule, state or transition added to careflow appears
here without anyone touching this module, and a test fails if one would be left out.
"""

from __future__ import annotations

import inspect
from datetime import date, timedelta
from functools import cache
from typing import Any, Final

from careflow import rules
from careflow.deadlines import milestones
from careflow.facts import Facts
from careflow.guards import GUARDS, citable_rules
from careflow.redflags import CATEGORY_LABEL, CATEGORY_OF_SIGN
from careflow.states import TRANSITIONS, State, TransitionName
from interop import codes
from interop.resources import Resource, coding, concept, fhir_id, questionnaire_id
from interop.terminology import published, rule_texts

_DAY: Final = date(2001, 1, 1)


@cache
def guard_rules(name: TransitionName) -> tuple[str, ...]:
    """The rule IDs a transition's guard can refuse it with (careflow asks the guard itself)."""
    return citable_rules(name)


def _doc(name: TransitionName) -> str:
    doc = inspect.getdoc(GUARDS[name]) or ""
    return " ".join(doc.split("\n\n")[0].split())


# Conditions name careflow's rules in a standard expression language: CQL identifiers
# (``text/cql-identifier``), each the rule ID, its sentence the description. Careflow
# publishes no CQL library: the rules are evaluated by careflow's own guards, and
# ``PlanDefinition/radiculopathy/$apply`` answers which hold for a patient now
# (interop/apply.py). An engine that cannot evaluate them reads them as documentation.
RULE_LANGUAGE: Final = "text/cql-identifier"


def _rule_condition(rule: str) -> dict[str, Any]:
    return {
        "kind": "applicability",
        "expression": {
            "description": f"{rule}: {rule_texts()[rule]}",
            "language": RULE_LANGUAGE,
            "expression": rule,
        },
    }


def _state_action_id(state: State) -> str:
    return f"state-{fhir_id(state.value)}"


def transition_action_id(source: State, name: TransitionName) -> str:
    """The id of a transition's action under its source state (``$apply`` uses it too)."""
    return f"{fhir_id(source.value)}.{fhir_id(name.value)}"


def _transition_action(name: TransitionName, source: State) -> dict[str, Any]:
    spec = TRANSITIONS[name]
    action: dict[str, Any] = {
        "id": transition_action_id(source, name),
        "title": name.value.replace("_", " "),
        "code": [concept(codes.TRANSITIONS, name.value)],
        # Each state it can reach (clear_escalation: specialist care once referred).
        "relatedAction": [
            {"actionId": _state_action_id(target), "relationship": "before-start"}
            for target in spec.targets
        ],
    }
    description = _doc(name)
    if description:
        action["description"] = description
    conditions = [_rule_condition(rule) for rule in guard_rules(name)]
    if conditions:
        action["condition"] = conditions
    if spec.clinician_only:
        action["participant"] = [{"type": "practitioner", "role": {"text": "clinician"}}]
    return action


def _state_action(state: State) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": _state_action_id(state),
        "title": state.value.replace("_", " "),
        "code": [concept(codes.STATES, state.value)],
    }
    outgoing = [
        _transition_action(spec.name, state)
        for spec in TRANSITIONS.values()
        if state in spec.sources
    ]
    if outgoing:
        action["action"] = outgoing
    return action


def _red_flag_action() -> dict[str, Any]:
    categories = sorted(set(CATEGORY_OF_SIGN.values()))
    return {
        "id": "red-flags",
        "title": "red flags",
        "description": rule_texts()[rules.URG_1],
        "action": [
            {
                "id": f"red-flag-{category}",
                "title": CATEGORY_LABEL[category],
                "code": [concept(codes.RULES, category, rule_texts()[category])],
                "condition": [
                    {
                        "kind": "applicability",
                        "expression": {
                            "description": f"{category}: any of {', '.join(signs)}",
                            "language": RULE_LANGUAGE,
                            "expression": category,
                        },
                    }
                ],
            }
            for category in categories
            for signs in [[s.value for s, c in CATEGORY_OF_SIGN.items() if c == category]]
        ],
    }


def _offset(start: date, end: date) -> dict[str, Any]:
    """A milestone's distance from its anchor: whole calendar months, or days."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day == start.day and months > 0:
        return {"value": months, "unit": "mo", "system": "http://unitsofmeasure.org", "code": "mo"}
    days = (end - start).days
    return {"value": days, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}


def _milestone_actions() -> list[dict[str, Any]]:
    probe = Facts(symptom_onset=_DAY, conservative_care_start=_DAY + timedelta(days=1))
    anchors = {"symptom_onset": probe.symptom_onset, "conservative_care_start": _DAY + timedelta(1)}
    return [
        {
            "id": f"milestone-{fhir_id(mark.milestone.value)}",
            "title": f"check-in at {mark.milestone.value.replace('_', ' ')}",
            "description": f"from {mark.anchor.replace('_', ' ')} ({mark.rule})",
            "code": [concept(codes.MILESTONES, mark.milestone.value)],
            "reason": [concept(codes.RULES, mark.rule)],
            "timingDuration": _offset(anchors[mark.anchor], mark.on),
            # Without ``|version``: the Questionnaire at this URL is the one version served
            # (its ``version`` element says which), and offline engines resolve it as is.
            "definitionCanonical": f"{codes.QUESTIONNAIRE}/{questionnaire_id(mark.milestone)}",
        }
        for mark in milestones(probe)
    ]


def plan_definition() -> Resource:
    return {
        "resourceType": "PlanDefinition",
        "id": "radiculopathy",
        "meta": {"lastUpdated": published().isoformat()},
        "url": codes.PLAN_DEFINITION,
        "version": rules.PATHWAY_VERSION,
        "name": "RadiculopathyPathway",
        "title": "Lumbosacral radiculopathy care pathway",
        "type": concept(codes.PLAN_DEFINITION_TYPE, "clinical-protocol", "Clinical Protocol"),
        "status": "active",
        "date": rules.PATHWAY_VERSION,
        "description": (
            "Generated from careflow's tables: each state is an action whose sub-actions are "
            "the transitions out of it, each with its guard's rules as applicability "
            "conditions and the state it leads to as a related action; then the red flags "
            "and the check-in milestones. Conditions name careflow's rules "
            "(text/cql-identifier: the rule ID); careflow evaluates them for a patient in "
            "PlanDefinition/radiculopathy/$apply?subject=Patient/{id}."
        ),
        "useContext": [
            {
                "code": coding(codes.USAGE_CONTEXT, "focus"),
                "valueCodeableConcept": {
                    "coding": [coding(codes.ICD10CM, *codes.ICD10CM_LUMBOSACRAL)],
                    "text": codes.CONDITION_TEXT,
                },
            }
        ],
        "action": [
            *(_state_action(state) for state in State),
            _red_flag_action(),
            *_milestone_actions(),
        ],
    }
