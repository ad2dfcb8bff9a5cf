"""PlanDefinition/radiculopathy/$apply: what the pathway asks now, computed by careflow's guards.

Each patient is put in a state through the services (as a care team would), and the answer
is checked against the rules that hold for them, and against the workspace's episode page
(``episode_pathway_view``): the same transitions allowed and blocked, with the same rules.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from api.models import AccessRecord
from careflow import rules
from careflow.redflags import RedFlag as RedFlagFact
from episodes import services
from episodes.models import Episode
from episodes.selectors import episode_facts, episode_pathway_view
from interop.apply import apply_plan
from tests.clients import client_for
from tests.clock import ONSET, at_day, moment
from tests.factories import PatientFactory, new_episode
from tests.interop.helpers import FHIR_JSON, fhir_get, validate

pytestmark = pytest.mark.django_db

APPLY = "PlanDefinition/radiculopathy/$apply"
CLINICIAN = "a clinician of the care team"


def _apply(user, patient_id):
    response = fhir_get(user, APPLY, subject=f"Patient/{patient_id}")
    assert response.status_code == 200, response.content
    return response.json()


def _request_group(plan: dict) -> dict:
    validate(plan)
    (group,) = plan["contained"]
    validate(group)
    assert plan["activity"] == [{"reference": {"reference": f"#{group['id']}"}}]
    return group


def _groups(plan: dict) -> dict[str, list[dict]]:
    return {g["id"]: g.get("action", []) for g in _request_group(plan)["action"]}


def _by_code(actions: list[dict]) -> dict[str, dict]:
    return {a["code"][0]["coding"][0]["code"]: a for a in actions}


def _rules(action: dict) -> list[str]:
    return [c["expression"]["expression"] for c in action.get("condition", [])]


def _matches_the_episode_page(plan: dict, episode: Episode) -> None:
    """Allowed and blocked as the workspace's episode page has them, rule for rule (today)."""
    view = episode_pathway_view(Episode.objects.get(pk=episode.pk))
    groups = _groups(plan)
    allowed = {t["name"] for t in view["available_transitions"] if t["allowed"]}
    assert set(_by_code(groups["allowed"])) == allowed
    blocked = {
        t["name"]: [r["rule"] for r in t["reasons"]]
        for t in view["available_transitions"]
        if not t["allowed"]
    }
    assert {code: _rules(a) for code, a in _by_code(groups["blocked"]).items()} == blocked
    assert [a["code"][0]["coding"][0]["code"] for a in groups["next"]] == [
        a["action"] for a in view["next_actions"]
    ]


def test_week_two_of_conservative_care_imaging_is_blocked_by_im_2(coordinator, episode):
    with at_day(14):
        plan = _apply(coordinator, episode.patient_id)
        _matches_the_episode_page(plan, episode)
    assert plan["resourceType"] == "CarePlan"
    assert plan["subject"] == {"reference": f"Patient/{episode.patient_id}"}
    assert plan["intent"] == "proposal"
    assert plan["instantiatesCanonical"] == [
        "https://careflow.example.org/fhir/PlanDefinition/radiculopathy"
    ]
    groups = _groups(plan)
    imaging = _by_code(groups["blocked"])["confirm_imaging_eligibility"]
    assert imaging["id"] == "conservative-care.confirm-imaging-eligibility"
    assert _rules(imaging) == [rules.CC_1, rules.IM_2]
    im_2 = imaging["condition"][1]["expression"]
    assert im_2["language"] == "text/cql-identifier"
    assert im_2["description"].startswith(
        "IM-2: no imaging before day 42 of conservative care unless a red flag is active"
    )
    assert "2026-11-12" in im_2["description"]  # onset 2026-10-01 + 42 days: when it opens
    assert "14 days" in imaging["condition"][0]["expression"]["description"]
    assert set(_by_code(groups["allowed"])) == {"refer_to_specialist", "resolve", "close"}
    reassess = _by_code(groups["next"])["reassess"]
    assert reassess["timingDateTime"] == "2026-11-12"
    assert reassess["code"][1]["coding"][0]["code"] == rules.CC_1
    assert reassess["priority"] == "routine"


def test_after_six_weeks_imaging_is_allowed(coordinator, episode):
    with at_day(45):
        plan = _apply(coordinator, episode.patient_id)
    groups = _groups(plan)
    assert "confirm_imaging_eligibility" in _by_code(groups["allowed"])
    assert "confirm_imaging_eligibility" not in _by_code(groups["blocked"])
    # Overdue: the 6-week reassessment was due on day 42.
    assert _by_code(groups["next"])["reassess"]["priority"] == "urgent"


def test_without_the_facts_imaging_is_blocked_by_im_1_even_after_six_weeks(coordinator, patient):
    bare = new_episode(patient, coordinator)
    with at_day(50):
        plan = _apply(coordinator, patient.pk)
        _matches_the_episode_page(plan, bare)
    imaging = _by_code(_groups(plan)["blocked"])["confirm_imaging_eligibility"]
    assert _rules(imaging) == [rules.IM_1, rules.IM_1]
    assert "conservative therapy to have failed" in imaging["textEquivalent"]


def test_a_red_flag_asks_for_urgent_imaging_and_an_immediate_referral(
    coordinator, clinician, episode
):
    with at_day(10):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=clinician)
        plan = _apply(coordinator, episode.patient_id)
        _matches_the_episode_page(plan, episode)
    assert plan["extension"][1]["valueCoding"]["code"] == "urgent_escalation"
    groups = _groups(plan)
    first, second = groups["next"][:2]
    assert (first["code"][0]["coding"][0]["code"], first["priority"]) == ("urgent_imaging", "stat")
    assert (second["code"][0]["coding"][0]["code"], second["priority"]) == (
        "refer_to_specialist",
        "stat",
    )
    referral = _by_code(groups["allowed"])["refer_to_specialist"]
    assert "must be immediate (RF-1)" in referral["description"]
    assert referral["code"][1]["coding"][0]["code"] == rules.RF_1
    clear = _by_code(groups["blocked"])["clear_escalation"]
    assert _rules(clear) == [rules.RF]
    assert "saddle_anesthesia" in clear["condition"][0]["expression"]["description"]
    assert clear["participant"][0]["display"] == CLINICIAN
    assert _rules(_by_code(groups["blocked"])["resolve"]) == [rules.RF]
    # Closing with a flag active is a clinician's decision.
    assert _by_code(groups["allowed"])["close"]["participant"][0]["display"] == CLINICIAN


def test_escalation_is_allowed_by_careflow_while_a_flag_is_active(coordinator, episode):
    """The services escalate on the flag itself; careflow's guard, asked first, allows it."""
    facts = episode_facts(episode)
    flag = RedFlagFact(sign="fever", raised_on=ONSET)
    with_flag = replace(facts, active_red_flags=(flag,))
    plan = apply_plan(episode, with_flag, ONSET, moment(0))
    groups = _groups(plan)
    assert "escalate" in _by_code(groups["allowed"])
    # Without it, escalation is blocked, citing RF.
    plan = apply_plan(episode, facts, ONSET, moment(0))
    assert _rules(_by_code(_groups(plan)["blocked"])["escalate"]) == [rules.RF]


def test_in_specialist_care_surgical_review_names_its_rules(coordinator, episode):
    with at_day(20):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "routine"},
        )
        plan = _apply(coordinator, episode.patient_id)
        _matches_the_episode_page(plan, episode)
    review = _by_code(_groups(plan)["blocked"])["begin_surgical_review"]
    assert review["id"] == "specialist-referral.begin-surgical-review"
    assert {rules.SX_1, rules.SX_2, rules.CC_1} <= set(_rules(review))
    assert review["participant"][0]["display"] == CLINICIAN


def test_post_with_parameters_answers_as_get(coordinator, episode):
    client = client_for(coordinator)
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "subject", "valueString": f"Patient/{episode.patient_id}"}],
    }
    with at_day(14):
        posted = client.post(f"/fhir/{APPLY}", body, format="json", HTTP_ACCEPT=FHIR_JSON)
        got = _apply(coordinator, episode.patient_id)
    assert posted.status_code == 200, posted.content
    assert _groups(posted.json()) == _groups(got)
    by_reference = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "subject", "valueReference": {"reference": f"Patient/{episode.patient_id}"}}
        ],
    }
    with at_day(14):
        response = client.post(f"/fhir/{APPLY}", by_reference, format="json")
    assert response.status_code == 200


def test_another_teams_patient_is_a_404_and_audited(coordinator, other_episode):
    response = fhir_get(coordinator, APPLY, subject=f"Patient/{other_episode.patient_id}")
    assert response.status_code == 404
    validate(response.json())
    record = AccessRecord.objects.order_by("-id").first()
    assert (record.patient_id, record.status_code) == (other_episode.patient_id, 404)
    assert fhir_get(coordinator, APPLY, subject="Patient/999999").status_code == 404


def test_a_read_of_the_patient_is_audited(coordinator, episode):
    _apply(coordinator, episode.patient_id)
    record = AccessRecord.objects.order_by("-id").first()
    assert (record.patient_id, record.episode_id, record.status_code) == (
        episode.patient_id,
        episode.pk,
        200,
    )


def test_a_patient_with_no_open_episode_is_a_422(coordinator, clinician, episode):
    services.episode_transition(episode_id=episode.pk, name="resolve", by=clinician)
    response = fhir_get(coordinator, APPLY, subject=f"Patient/{episode.patient_id}")
    assert response.status_code == 422
    body = response.json()
    validate(body)
    assert "has no open episode" in body["issue"][0]["diagnostics"]


def test_the_latest_open_episode_is_the_one_applied(coordinator, patient):
    new_episode(patient, coordinator)
    later = new_episode(patient, coordinator)
    plan = _apply(coordinator, patient.pk)
    assert plan["extension"][0]["valueReference"]["reference"] == f"EpisodeOfCare/{later.pk}"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("", "subject is required"),
        ("?subject=Group/1", "must be a Patient reference"),
        ("?subject=Patient/abc", "must be a Patient reference"),
        ("?subject=Patient/", "must be a Patient reference"),
        ("?subject=Patient/0", "is not a patient id"),
        (f"?subject=Patient/{2**64}", "is not a patient id"),
        ("?subject=Patient/1&subject=Patient/2", "give one subject"),
        ("?subject=Patient/1&encounter=Encounter/1", "unsupported parameter of $apply: encounter"),
        ("?subject=%00", "must be a Patient reference"),
    ],
)
def test_a_bad_subject_is_a_400_in_words(coordinator, query, words):
    response = client_for(coordinator).get(f"/fhir/{APPLY}{query}", HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code == 400, response.content
    body = response.json()
    validate(body)
    text = " ".join(i["diagnostics"] for i in body["issue"])
    assert words in text
    assert "ErrorDetail" not in response.content.decode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "must be a Parameters resource"),
        ({"resourceType": "Patient"}, "must be a Parameters resource"),
        ({"resourceType": "Parameters", "parameter": "x"}, "must be a list of parameters"),
        ({"resourceType": "Parameters", "parameter": [{"name": "subject"}]}, "a valueString"),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "subject", "valueString": 7}]},
            "a valueString",
        ),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "setting", "valueString": "x"}]},
            "unsupported parameter of $apply: setting",
        ),
        ({"resourceType": "Parameters"}, "subject is required"),
    ],
)
def test_a_bad_parameters_body_is_a_400_naming_the_subject(coordinator, body, words):
    response = client_for(coordinator).post(f"/fhir/{APPLY}", body, format="json")
    assert response.status_code == 400, response.content
    outcome = response.json()
    validate(outcome)
    issue = outcome["issue"][0]
    assert words in issue["diagnostics"]
    assert issue["expression"] == ["Parameters.parameter.where(name = 'subject')"]
    assert "ErrorDetail" not in response.content.decode()


def test_other_plan_definitions_and_anonymous_callers(coordinator, episode):
    assert (
        fhir_get(coordinator, "PlanDefinition/other/$apply", subject="Patient/1").status_code == 404
    )
    response = client_for(None).get(f"/fhir/{APPLY}", {"subject": f"Patient/{episode.patient_id}"})
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_patient_of_several_states_each_answers(coordinator, clinician, team):
    """One call per patient, whatever their state; every answer validates."""
    patients = []
    for n, steps in enumerate(
        (
            (),
            (("refer_to_specialist", {"urgency": "routine"}),),
            (("close", {"reason": "transferred"}),),
        )
    ):
        patient = PatientFactory(care_team=team, given_name=f"P{n}")
        episode = new_episode(patient, coordinator, radicular_pain=True)
        for name, data in steps:
            services.episode_transition(episode_id=episode.pk, name=name, by=clinician, data=data)
        patients.append(patient)
    statuses = [
        fhir_get(coordinator, APPLY, subject=f"Patient/{p.pk}").status_code for p in patients
    ]
    assert statuses == [200, 200, 422]


def test_apply_costs_a_fixed_number_of_queries(coordinator, clinician, episode, patient):
    """One episode read with its flags and imaging (prefetched): the same with more rows."""
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    client = client_for(coordinator)
    path = f"/fhir/{APPLY}?subject=Patient/{episode.patient_id}"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    queries()  # the first request of a client fills its caches (the user's team ids)
    before = queries()
    for sign in ("fever", "osteoporosis", "history_of_cancer"):
        services.red_flag_raise(episode_id=episode.pk, sign=sign, by=clinician)
    for n in range(3):
        services.assessment_record(
            episode_id=episode.pk, by=clinician, values={"disabling_pain": bool(n % 2)}
        )
    after = queries()
    assert after == before, (before, after)
    assert before <= 6, before
