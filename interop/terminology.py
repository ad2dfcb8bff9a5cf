"""Careflow's own code systems, served as FHIR CodeSystem resources (``/fhir/CodeSystem``).

Every local system ``interop/codes.py`` names is here with every code careflow can send in
it and the words for each: the same tables the code is made from (``careflow``'s enums and
catalogues, the rule texts of ``careflow/rules.py``) and the words the workspace shows
(``workspace.labels``, in English; a check-in's answers in the patient's words of the
check-in page). The resources use ``display`` from here, so a coding's
display and its CodeSystem's cannot differ; a test walks every coding served against them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Final

from django.utils import translation

from careflow import rules
from careflow.careplan import CATALOGUE
from careflow.checkin import Overall, Symptom
from careflow.deadlines import Milestone
from careflow.facts import BOOLEAN_FACTS
from careflow.redflags import CATEGORY_OF_SIGN
from careflow.rules import ALL_RULES, PATHWAY_VERSION
from careflow.states import State, TransitionName
from interop import codes
from notifications.checkins.text import TEXT as CHECKIN_TEXT
from workspace import labels
from workspace.forms import label_for
from workspace.models import OutreachKind

Resource = dict[str, Any]

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


# A reminder that is not a milestone's: the care team's red-flag alert.
RED_FLAG_ALERT: Final = "red-flag-alert"
# What a DiagnosticReport concludes (interop/resources/clinical.py).
IMAGING_CONCLUSIONS: Final = {
    "nerve-root-compression": "Nerve-root compression",
    "no-compression": "No nerve-root compression",
    "clinically-correlated": "Clinically correlated with the symptoms",
    "not-correlated": "Not clinically correlated with the symptoms",
}


def _words(table: dict[str, Any], code: str) -> str:
    return str(table.get(code) or code.replace("_", " ").capitalize())


def _concepts() -> dict[str, tuple[str, str, Callable[[], dict[str, str]]]]:
    """Each system by its URL: (title, description, the codes and their words)."""
    texts = rule_texts()
    return {
        codes.RULES: (
            "Rules of the radiculopathy pathway",
            "The rule IDs of PATHWAY.md, each with its sentence (careflow/rules.py).",
            lambda: {rule: texts[rule] for rule in ALL_RULES},
        ),
        codes.FACTS: (
            "Clinical facts",
            "The yes/no facts a clinician records in an assessment (Observation.code).",
            lambda: {fact: label_for(fact) for fact in BOOLEAN_FACTS},
        ),
        codes.SIGNS: (
            "Red-flag signs",
            "The signs of the red-flag catalogue, each under its RF category (Flag.code).",
            lambda: {s.value: _words(labels.SIGNS, s.value) for s in CATEGORY_OF_SIGN},
        ),
        codes.STATES: (
            "Pathway states",
            "The states of an episode (EpisodeOfCare's pathway-state extension).",
            lambda: {s.value: _words(labels.STATES, s.value) for s in State},
        ),
        codes.TRANSITIONS: (
            "Pathway transitions",
            "The moves from state to state (Provenance.activity, the PlanDefinition).",
            lambda: {t.value: _words(labels.TRANSITIONS, t.value) for t in TransitionName},
        ),
        codes.ACTIONS: (
            "Next actions",
            "What careflow asks the care team to do next (Task.code).",
            lambda: {a: _words(labels.NEXT_ACTIONS, a) for a in labels.NEXT_ACTIONS},
        ),
        codes.PLAN_ITEMS: (
            "Care-plan items",
            "The catalogue of conservative and interventional care (CarePlan.activity).",
            lambda: {item: _words(labels.PLAN_ITEMS, item) for item in CATALOGUE},
        ),
        codes.IMAGING: (
            "Imaging",
            "Imaging studies and what careflow records of their findings (DiagnosticReport).",
            lambda: {
                **{m: _words(labels.MODALITIES, m) for m in labels.MODALITIES},
                **IMAGING_CONCLUSIONS,
            },
        ),
        codes.MILESTONES: (
            "Milestones",
            "The check-in milestones, and the red-flag alert to the care team.",
            lambda: {
                **{m.value: _words(labels.REMINDER_MILESTONES, m.value) for m in Milestone},
                RED_FLAG_ALERT: "Red flag alert",
            },
        ),
        codes.OUTREACH: (
            "Outreach",
            "A coordinator's note of a call, a message or a letter (Communication.category).",
            lambda: {k.value: str(k.label) for k in OutreachKind},
        ),
        codes.OVERALL: (
            "Check-in: overall",
            "A patient's answer to how the pain is overall (QuestionnaireResponse).",
            lambda: {o.value: CHECKIN_TEXT["en"][o.value] for o in Overall},
        ),
        codes.CHECKIN_SYMPTOMS: (
            "Check-in: new symptoms",
            "The red-flag symptoms a check-in asks about (QuestionnaireResponse).",
            lambda: {s.value: CHECKIN_TEXT["en"][s.value] for s in Symptom},
        ),
        codes.PATHWAYS: (
            "Care pathways",
            "The pathways careflow runs (EpisodeOfCare.type).",
            lambda: {"radiculopathy": "Lumbosacral radiculopathy pathway"},
        ),
    }


@cache
def _tables() -> dict[str, dict[str, str]]:
    with translation.override("en"):
        return {url: dict(make()) for url, (_t, _d, make) in _concepts().items()}


def systems() -> list[str]:
    """Every local code system's URL."""
    return list(_concepts())


def display(system: str, code: str) -> str:
    """A code's words in its careflow code system (the code in words if it has none)."""
    return _tables().get(system, {}).get(code) or code.replace("_", " ").replace("-", " ")


def codesystem_id(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def codesystem_resource(url: str) -> Resource:
    title, description, _make = _concepts()[url]
    concepts = _tables()[url]
    cs_id = codesystem_id(url)
    return {
        "resourceType": "CodeSystem",
        "id": cs_id,
        "meta": {"lastUpdated": published().isoformat()},
        "url": url,
        "version": PATHWAY_VERSION,
        "name": "".join(part.title() for part in cs_id.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": "Careflow",
        "description": description,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": [{"code": code, "display": words} for code, words in concepts.items()],
    }


def codesystem_by_id(cs_id: str) -> Resource | None:
    for url in systems():
        if codesystem_id(url) == cs_id:
            return codesystem_resource(url)
    return None
