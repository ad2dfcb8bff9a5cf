"""Code systems, codes and extension URLs the FHIR facade uses (FHIR R4B, 4.3.0).

Careflow's own vocabularies (rule IDs, facts, signs, states, transitions, plan items) are
published under one base URL as code systems of their own; the standard ones are named by
their canonical URLs.
"""

from __future__ import annotations

from typing import Final

FHIR_VERSION: Final = "4.3.0"  # R4B
FHIR_JSON: Final = "application/fhir+json"

# Careflow's canonical base: the code systems below are not resolvable web pages, they
# name careflow's own codes (as a FHIR code system URL may).
BASE: Final = "https://careflow.example.org/fhir"
RULES: Final = f"{BASE}/CodeSystem/rules"
FACTS: Final = f"{BASE}/CodeSystem/facts"
SIGNS: Final = f"{BASE}/CodeSystem/red-flag-signs"
STATES: Final = f"{BASE}/CodeSystem/states"
TRANSITIONS: Final = f"{BASE}/CodeSystem/transitions"
ACTIONS: Final = f"{BASE}/CodeSystem/next-actions"
PLAN_ITEMS: Final = f"{BASE}/CodeSystem/care-plan-items"
IMAGING: Final = f"{BASE}/CodeSystem/imaging"
MILESTONES: Final = f"{BASE}/CodeSystem/milestones"
OUTREACH: Final = f"{BASE}/CodeSystem/outreach"  # a coordinator's note: call_made, no_answer…
OVERALL: Final = f"{BASE}/CodeSystem/overall"  # a check-in's answer: better, same, worse…
CHECKIN_SYMPTOMS: Final = f"{BASE}/CodeSystem/checkin-symptoms"
PATHWAYS: Final = f"{BASE}/CodeSystem/pathways"  # EpisodeOfCare.type: the pathway it follows
CARE_TEAMS: Final = f"{BASE}/NamingSystem/care-team-id"
PLAN_DEFINITION: Final = f"{BASE}/PlanDefinition/radiculopathy"
QUESTIONNAIRE: Final = f"{BASE}/Questionnaire"

EXT_STATE: Final = f"{BASE}/StructureDefinition/pathway-state"
EXT_EPISODE: Final = f"{BASE}/StructureDefinition/episode"
EXT_SMS_CONSENT: Final = f"{BASE}/StructureDefinition/sms-consent"
EXT_OPTED_OUT: Final = f"{BASE}/StructureDefinition/opted-out"
EXT_CONCERN: Final = f"{BASE}/StructureDefinition/care-plan-concern"
EXT_TRANSITION: Final = f"{BASE}/StructureDefinition/transition"
EXT_CARE_START: Final = f"{BASE}/StructureDefinition/conservative-care-start"
# The patient's IANA time zone: HL7's core extension (valueCode), as in R5's extension pack.
EXT_TIMEZONE: Final = "http://hl7.org/fhir/StructureDefinition/timezone"

ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED: Final = "http://snomed.info/sct"
BCP47: Final = "urn:ietf:bcp:47"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
FLAG_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/flag-category"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SECTION: Final = "http://terminology.hl7.org/CodeSystem/v2-0074"
COMMUNICATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/communication-category"
PARTICIPATION_MODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
PROVENANCE_ROLE: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
USAGE_CONTEXT: Final = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PLAN_DEFINITION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/plan-definition-type"

# The condition every episode is about. ICD-10-CM M54.17 "Radiculopathy, lumbosacral
# region" (chapter 13, M54.1- Radiculopathy); its neighbour M54.16 is the lumbar region.
# Source: the CDC's ICD-10-CM tabular list as quoted by the code references
# mirahealth.care/reference/icd10/M54.17 and AccessPhysiotherapy's "Lumbosacral radicular
# syndrome" (ICD-10-CM M54.16, M54.17), looked up 2026-11-25. WHO's ICD-10 (2019) has the
# same fifth character for the dorsopathies' site, 7 = lumbosacral region
# (icd.who.int/browse10/2019/en, block M40-M54).
ICD10CM_LUMBOSACRAL: Final = ("M54.17", "Radiculopathy, lumbosacral region")
ICD10CM_LUMBAR: Final = ("M54.16", "Radiculopathy, lumbar region")
# SNOMED CT 2415007 |Lumbosacral radiculopathy (disorder)|, and its neighbour 128196005
# |Lumbar radiculopathy (disorder)|, both as listed (beside ICD-10-CM M54.17 and M54.16) in
# NLM VSAC's expansion of value set 2.16.840.1.113762.1.4.1021.95 "Conditions associated
# with chronic pain" against SNOMED CT 2020-09 (the copy in github.com/cqframework/cds4cpm,
# input/vocabulary/valueset/valueset-2.16.840.1.113762.1.4.1021.95.json; an older
# description of 2415007 is "Lumbosacral root lesion"). One unofficial table gives other
# ids for these names, which VSAC contradicts.
SNOMED_LUMBOSACRAL_RADICULOPATHY: Final = ("2415007", "Lumbosacral radiculopathy (disorder)")
SNOMED_LUMBAR_RADICULOPATHY: Final = ("128196005", "Lumbar radiculopathy (disorder)")
CONDITION_TEXT: Final = "Lumbosacral radiculopathy"
# SNOMED CT beside careflow's own code, for the red-flag signs whose concept could be
# verified in an authoritative source that gives the code and its name together; the other
# signs, the facts (Observation.code) and the next actions (Task.code) carry careflow's
# codes only until a terminologist maps them (no guessed codes). Sources:
# - 386661006 |Fever (finding)|: the FHIR specification's Condition example f201, whose
#   terminology-server rendering gives "SNOMED CT code '386661006' = 'Fever (finding)'"
#   (hl7.org/fhir/2017Jan/condition-example-f201-fever.html).
# - 64859006 |Osteoporosis|: HL7 Switzerland's CH LAB-Order IG, value set
#   normal-contexts-vitamin-d ("concept is-a 64859006 (Osteoporosis)",
#   build.fhir.org/ig/hl7ch/ch-lab-order/branches/v2.0.0/ValueSet-normal-contexts-vitamin-d).
# - 267064002 |Retention of urine|: a member of NLM VSAC's value set
#   2.16.840.1.113762.1.4.1164.52 "Urinary retention" (eCQM Update 2020-05-07, beside
#   ICD-10-CM R33.0, R33.8, R33.9).
# - 449813001 |Numbness of saddle area (finding)|, the loss of feeling over the buttocks,
#   perineum and inner thighs that saddle anaesthesia names: a member of NLM VSAC's value
#   set 2.16.840.1.113883.3.464.1003.114.12.1012 "Neurologic impairment", SNOMED CT US
#   Edition 2024-09-01 (github.com/cqframework/dqm-content-cms-2025, input/vocabulary/
#   valueset/external/ValueSet-2.16.840.1.113883.3.464.1003.114.12.1012-20240217.json).
# - 266987004 |History of malignant neoplasm (situation)|: the Medizininformatik-
#   Initiative's Pathologie-Befund IG, example Condition mii-exa-patho-problem-list-item-2
#   (github.com/medizininformatik-initiative/kerndatensatzmodul-PathologieBefund), and
#   Belgium's eHealth Platform value set be-vs-diagnostic-imaging-indication (eReferral
#   1.0.0, ehealth.fgov.be/standards/fhir/terminology).
# - 422868009 |Unexplained weight loss (finding)|: a member of NLM VSAC's value set
#   2.16.840.1.113883.3.464.1003.113.12.1075 "Frailty Symptom", SNOMED CT 2023-09
#   (github.com/cqframework/ecqm-content-qicore-2024, input/vocabulary/valueset/external/
#   valueset-2.16.840.1.113883.3.464.1003.113.12.1075.json).
# - 228388006 |Intravenous drug user (finding)|: the CDC's value set "Substance Abuse
#   Conditions" of the CDS for chronic pain management IG (fhir.org/guides/cqf/cds4cpm/
#   ValueSet/substance-abuse, in github.com/cqframework/cds4cpm).
# - 38013005 |Immunosuppression (finding)|: the Swiss CH EKM IG (electronic notification
#   of clinical findings), example Condition ChEkmConditionExample-Immunosuppression, a
#   risk factor of invasive pneumococcal disease (github.com/ahdis/ch-ekm, input/fsh/
#   examples/ChEkmBundleInvasiveStreptococcusPneumoniae.fsh).
# Left to a terminologist: incontinence (careflow's sign is of bladder or bowel; the
# verified concepts name one of them), weakness in both legs, progressive motor deficit,
# over 50 with new-onset pain (a rule, not a finding), significant trauma and prolonged
# corticosteroid use (no concept of that meaning found in such a source).
SIGN_SNOMED: Final = {
    "urinary_retention": ("267064002", "Retention of urine"),
    "saddle_anesthesia": ("449813001", "Numbness of saddle area (finding)"),
    "history_of_cancer": ("266987004", "History of malignant neoplasm (situation)"),
    "unexplained_weight_loss": ("422868009", "Unexplained weight loss (finding)"),
    "fever": ("386661006", "Fever (finding)"),
    "iv_drug_use": ("228388006", "Intravenous drug user (finding)"),
    "immunosuppression": ("38013005", "Immunosuppression (finding)"),
    "osteoporosis": ("64859006", "Osteoporosis"),
}
# Codes a Condition in an enrolment Bundle may carry (either is this pathway), and what
# each is called; the one sent is kept and read back as sent.
ENROLLABLE_DISPLAY: Final = {
    (ICD10CM, ICD10CM_LUMBOSACRAL[0]): ICD10CM_LUMBOSACRAL[1],
    (ICD10CM, ICD10CM_LUMBAR[0]): ICD10CM_LUMBAR[1],
    (SNOMED, SNOMED_LUMBOSACRAL_RADICULOPATHY[0]): SNOMED_LUMBOSACRAL_RADICULOPATHY[1],
    (SNOMED, SNOMED_LUMBAR_RADICULOPATHY[0]): SNOMED_LUMBAR_RADICULOPATHY[1],
}
ENROLLABLE: Final = frozenset(ENROLLABLE_DISPLAY)
# HL7 v2 table 0203, identifier type: MR, the medical record number.
IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
