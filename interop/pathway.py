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
import re
from datetime import UTC, date, datetime, timedelta
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

RULE_LINE: Final = re.compile(r'^[A-Z][A-Z0-9_]*: Final = "([^"]+)"(?:\s+#\s*(.*))?$')


@cache
def rule_texts() -> dict[str, str]:
    """Each rule ID's text: the comment beside its constant in careflow/rules.py, or above it."""
    texts: dict[str, str] = {}
    above: list[str] = []
    for line in inspect.getsource(rules).splitlines():
        match = RULE_LINE.match(line)
        if match is not None:
            if match[1] in rules.ALL_RULES:
                texts[match[1]] = (match[2] or " ".join(above)).strip()
            above = []
        elif line.startswith("#"):
            above.append(line.lstrip("#").strip())
        else:
            above = []
    return texts


def published() -> datetime:
    """The instant the pathway version took effect: the PlanDefinition's lastUpdated."""
    return datetime.combine(date.fromisoformat(rules.PATHWAY_VERSION), datetime.min.time(), UTC)


_DAY: Final = date(2001, 1, 1)


@cache
def guard_rules(name: TransitionName) -> tuple[str, ...]:
    """The rule IDs a transition's guard can refuse it with (careflow asks the guard itself)."""
    return citable_rules(name)


def _doc(name: TransitionName) -> str:
    doc = inspect.getdoc(GUARDS[name]) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _rule_condition(rule: str) -> dict[str, Any]:
    return {
        "kind": "applicability",
        "expression": {
            "description": f"{rule}: {rule_texts()[rule]}",
            "language": "text/x-careflow-rule",
            "expression": rule,
        },
    }


def _state_action_id(state: State) -> str:
    return f"state-{fhir_id(state.value)}"


def _transition_action(name: TransitionName, source: State) -> dict[str, Any]:
    spec = TRANSITIONS[name]
    action: dict[str, Any] = {
        "id": f"{fhir_id(source.value)}.{fhir_id(name.value)}",
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
                            "description": f"any of: {', '.join(signs)}",
                            "language": "text/x-careflow-sign",
                            "expression": " or ".join(signs),
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
            "definitionCanonical": (
                f"{codes.QUESTIONNAIRE}/{questionnaire_id(mark.milestone)}|{rules.PATHWAY_VERSION}"
            ),
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
            "and the check-in milestones."
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
