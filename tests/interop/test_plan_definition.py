"""PlanDefinition/radiculopathy is generated from careflow's tables and cannot drift from them."""

from __future__ import annotations

import pytest

from careflow import rules
from careflow.deadlines import Milestone
from careflow.guards import GUARDS
from careflow.states import TRANSITIONS, State, TransitionName
from interop.pathway import guard_rules, plan_definition, rule_texts
from interop.resources import fhir_id
from tests.interop.helpers import fhir_get, validate


def _actions(definition):
    return {a["id"]: a for a in definition["action"]}


def test_every_rule_has_its_text_from_rules_py():
    texts = rule_texts()
    assert set(texts) == set(rules.ALL_RULES)
    assert all(texts.values())
    assert texts[rules.CC_1] == "42 days of conservative therapy before imaging or intervention"
    assert texts[rules.RF].startswith("The red-flag escalation rule itself")


# What each guard refuses with (PATHWAY.md's transition table, as careflow enforces it).
EXPECTED_RULES = {
    TransitionName.ESCALATE: {rules.RF},
    TransitionName.CLEAR_ESCALATION: {rules.RF},
    TransitionName.CONFIRM_IMAGING_ELIGIBILITY: {rules.CC_1, rules.IM_1, rules.IM_2},
    TransitionName.SCHEDULE_ESI: {rules.ESI_1, rules.ESI_2, rules.ESI_3},
    # URG-1 / REF-2 / REF-3: never blocked, but never of lower urgency than the rules ask.
    TransitionName.REFER_TO_SPECIALIST: {
        rules.RF_1,
        rules.RF_2,
        rules.RF_3,
        rules.RF_4,
        rules.RF_5,
        rules.REF_2,
        rules.REF_3,
    },
    TransitionName.BEGIN_SURGICAL_REVIEW: {rules.SX_1, rules.SX_2, rules.SX_3, rules.CC_1},
    TransitionName.DECLINE_SURGERY: set(),
    # URG-1 lapsed: the elective gates of begin_surgical_review are checked again.
    TransitionName.PLAN_SURGERY: {rules.SX_4, rules.SX_5, rules.CC_1, rules.SX_1, rules.SX_2},
    TransitionName.DECLARE_REFRACTORY: {rules.RX_1},
    TransitionName.RESOLVE: {rules.RF},
    TransitionName.CLOSE: set(),
}


def test_the_probes_reach_every_rule_each_guard_can_cite():
    assert set(EXPECTED_RULES) == set(GUARDS) == set(TRANSITIONS)
    for name, expected in EXPECTED_RULES.items():
        assert set(guard_rules(name)) == expected, name


def test_states_transitions_and_guards_are_all_there():
    definition = plan_definition()
    validate(definition)
    actions = _actions(definition)
    for state in State:
        action = actions[f"state-{fhir_id(state.value)}"]
        outgoing = {sub["code"][0]["coding"][0]["code"]: sub for sub in action.get("action", [])}
        expected = {spec.name.value for spec in TRANSITIONS.values() if state in spec.sources}
        assert set(outgoing) == expected, state
        for name, sub in outgoing.items():
            spec = TRANSITIONS[TransitionName(name)]
            targets = [related["actionId"] for related in sub["relatedAction"]]
            # clear_escalation reaches specialist care too once a referral has been made.
            assert targets == [f"state-{fhir_id(t.value)}" for t in spec.targets]
            assert all(target in actions for target in targets)
            cited = [c["expression"]["expression"] for c in sub.get("condition", [])]
            assert set(cited) == EXPECTED_RULES[spec.name]
            for condition in sub.get("condition", []):
                rule = condition["expression"]["expression"]
                assert condition["expression"]["description"] == f"{rule}: {rule_texts()[rule]}"
            assert ("participant" in sub) is spec.clinician_only


def test_red_flags_and_milestones():
    actions = _actions(plan_definition())
    categories = {a["code"][0]["coding"][0]["code"] for a in actions["red-flags"]["action"]}
    assert categories == {rules.RF_1, rules.RF_2, rules.RF_3, rules.RF_4, rules.RF_5}
    timing = {m: actions[f"milestone-{fhir_id(m.value)}"]["timingDuration"] for m in Milestone}
    assert (timing[Milestone.TWO_WEEKS]["value"], timing[Milestone.TWO_WEEKS]["code"]) == (14, "d")
    assert (timing[Milestone.SIX_WEEKS]["value"], timing[Milestone.SIX_WEEKS]["code"]) == (42, "d")
    assert (timing[Milestone.THREE_MONTHS]["value"], timing[Milestone.THREE_MONTHS]["code"]) == (
        3,
        "mo",
    )


def test_a_new_rule_in_a_guard_shows_up_without_touching_interop(monkeypatch):
    """Drift check: change a guard in careflow and the served PlanDefinition follows."""
    from careflow.guards import Reason  # noqa: PLC0415

    original = GUARDS[TransitionName.RESOLVE]

    def stricter(facts, today, data):
        return [
            Reason(rules.REF_3, "a new rule"),
            *original(facts, today, data),
        ]

    monkeypatch.setitem(GUARDS, TransitionName.RESOLVE, stricter)
    guard_rules.cache_clear()
    try:
        resolve = _actions(plan_definition())["state-esi"]["action"]
        cited = {
            c["expression"]["expression"]
            for a in resolve
            if a["id"] == "esi.resolve"
            for c in a["condition"]
        }
        assert cited == {rules.REF_3, rules.RF}
    finally:
        monkeypatch.undo()
        guard_rules.cache_clear()


def _walk(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_engines_can_read_it_canonicals_without_versions_and_a_standard_language():
    """What an offline CPG engine needs: canonicals it can resolve, a language it knows.

    The version is the PlanDefinition's ``version`` element (and each Questionnaire's), not
    a ``|version`` suffix; conditions are CQL identifiers (the rule ID, its sentence the
    description), which careflow evaluates in $apply.
    """
    definition = plan_definition()
    assert definition["version"] == rules.PATHWAY_VERSION
    conditions = [node["expression"] for node in _walk(definition) if "kind" in node]
    assert conditions
    assert {c["language"] for c in conditions} == {"text/cql-identifier"}
    assert all(c["expression"] in rules.ALL_RULES for c in conditions)
    assert all(c["description"].startswith(f"{c['expression']}: ") for c in conditions)
    canonicals = [
        node["definitionCanonical"] for node in _walk(definition) if "definitionCanonical" in node
    ]
    assert len(canonicals) == len(Milestone)
    assert not [c for c in canonicals if "|" in c]


@pytest.mark.django_db
def test_canonicals_resolve_to_what_is_served(coordinator):
    """Each canonical the PlanDefinition names is served at its URL's type and id."""
    definition = plan_definition()
    for node in _walk(definition):
        canonical = node.get("definitionCanonical")
        if canonical is None:
            continue
        resource_type, resource_id = canonical.split("/")[-2:]
        served = fhir_get(coordinator, f"{resource_type}/{resource_id}")
        assert served.status_code == 200, canonical
        assert served.json()["url"] == canonical
        assert served.json()["version"] == rules.PATHWAY_VERSION


@pytest.mark.django_db
def test_served_as_generated(coordinator):
    response = fhir_get(coordinator, "PlanDefinition/radiculopathy")
    assert response.status_code == 200
    assert response.json() == plan_definition()
    assert fhir_get(coordinator, "PlanDefinition/other").status_code == 404
