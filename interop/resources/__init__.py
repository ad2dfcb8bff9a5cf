"""Careflow rows as FHIR R4B resources (plain JSON dicts; tests validate them with fhir.resources).

One function per resource type, ``<type>_resource(row, ...)``: no queries of their own
beyond what the caller prefetched, so a list or a Bundle costs what its selector costs.
Ids: a resource that is one row uses the row's id; one that is derived from a row uses
``<row id>-<code>`` (FHIR ids allow letters, digits, ``-`` and ``.``, not ``_``).

    common     ids, instants, references, codings: what every resource is built from
    clinical   Patient, EpisodeOfCare, Condition, Flag, Observation, DiagnosticReport
    care       CarePlan, Task (next actions), Provenance (the transition log)
    messages   CommunicationRequest, Communication, Questionnaire, QuestionnaireResponse
    outreach   Communication (a coordinator's call, message or letter: the workspace's notes)

Callers read them as ``from interop import resources as fhir``; ``fhir.patient_resource``.
"""

from __future__ import annotations

from interop.resources.care import (
    CAREPLAN_FIELDS,
    careplan_resource,
    careplan_status,
    provenance_resource,
    task_done_resource,
    task_id,
    task_resource,
)
from interop.resources.clinical import (
    CONDITION_FIELDS,
    EPISODE_FIELDS,
    condition_code,
    condition_resource,
    episode_resource,
    episode_status,
    fact_id,
    flag_resource,
    imaging_resource,
    observation_id,
    observation_resources,
    patient_resource,
)
from interop.resources.common import (
    Resource,
    coding,
    concept,
    fhir_id,
    instant,
    ref,
    versioned,
)
from interop.resources.messages import (
    communication_request_resource,
    communication_resource,
    questionnaire_id,
    questionnaire_resource,
    questionnaire_response_resource,
)
from interop.resources.outreach import OUTREACH_ID_PREFIX, outreach_id, outreach_resource

__all__ = [
    "CAREPLAN_FIELDS",
    "CONDITION_FIELDS",
    "EPISODE_FIELDS",
    "OUTREACH_ID_PREFIX",
    "Resource",
    "careplan_resource",
    "careplan_status",
    "coding",
    "communication_request_resource",
    "communication_resource",
    "concept",
    "condition_code",
    "condition_resource",
    "episode_resource",
    "episode_status",
    "fact_id",
    "fhir_id",
    "flag_resource",
    "imaging_resource",
    "instant",
    "observation_id",
    "observation_resources",
    "outreach_id",
    "outreach_resource",
    "patient_resource",
    "provenance_resource",
    "questionnaire_id",
    "questionnaire_resource",
    "questionnaire_response_resource",
    "ref",
    "task_done_resource",
    "task_id",
    "task_resource",
    "versioned",
]
