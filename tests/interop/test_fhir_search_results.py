"""Result parameters and the searches by episode, date and code.

_include / _revinclude (mode include, scoped, audited), _summary=count, _count=0, _total,
_elements, _sort on dates both ways (paged by keyset), _lastUpdated on every type; and the
CapabilityStatement's sorts and includes walked against what is served.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from api.models import AccessRecord
from episodes import services
from episodes.models import Assessment, Episode, Patient, RedFlag
from interop import codes
from tests.clients import client_for
from tests.factories import PatientFactory, new_episode
from tests.interop.helpers import FHIR_JSON, validate
from workspace.services import outreach_note_add

pytestmark = pytest.mark.django_db


def _body(user, path: str, **params) -> dict:
    response = client_for(user).get(f"/fhir/{path}", params, HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    return body


def _entries(body: dict, mode: str = "match") -> list[str]:
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in body.get("entry", [])
        if e["search"]["mode"] == mode
    ]


def _ids(user, path: str, **params) -> list[str]:
    return [ref.split("/", 1)[1] for ref in _entries(_body(user, path, **params))]


def _walk(user, path: str, **params) -> list[str]:
    """Every match, following next links."""
    client = client_for(user)
    out: list[str] = []
    response = client.get(f"/fhir/{path}", params, HTTP_ACCEPT=FHIR_JSON)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        out.extend(ref.split("/", 1)[1] for ref in _entries(body))
        following = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if not following:
            return out
        response = client.get(following[0], HTTP_ACCEPT=FHIR_JSON)


# -- _include / _revinclude -------------------------------------------------------------------


def test_include_the_episodes_patient_and_condition(coordinator, episode, patient):
    second = new_episode(patient, coordinator)
    body = _body(
        coordinator,
        "EpisodeOfCare",
        _include="EpisodeOfCare:patient,EpisodeOfCare:condition",
    )
    assert _entries(body) == [f"EpisodeOfCare/{episode.pk}", f"EpisodeOfCare/{second.pk}"]
    assert sorted(_entries(body, "include")) == sorted(
        [f"Patient/{patient.pk}", f"Condition/{episode.pk}", f"Condition/{second.pk}"]
    )
    assert body["total"] == 2  # included resources never count
    # Included resources read as their own reads say they are, version and all.
    client = client_for(coordinator)
    for entry in body["entry"]:
        resource = entry["resource"]
        read = client.get(f"/fhir/{resource['resourceType']}/{resource['id']}").json()
        assert resource == read


def test_include_repeated_as_clients_send_it(coordinator, episode):
    response = client_for(coordinator).get(
        f"/fhir/EpisodeOfCare?_include=EpisodeOfCare:patient&_include=EpisodeOfCare:condition"
        f"&_id={episode.pk}"
    )
    body = response.json()
    assert len(_entries(body, "include")) == 2
    # The next link carries both.
    assert "EpisodeOfCare%3Apatient%2CEpisodeOfCare%3Acondition" in body["link"][0]["url"]


def test_revinclude_flags_and_tasks_of_the_page(coordinator, clinician, episode, other_episode):
    flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    services.red_flag_raise(episode_id=other_episode.pk, sign="fever", by=clinician)
    body = _body(
        coordinator, "EpisodeOfCare", _revinclude="Flag:episode,Task:focus", _id=episode.pk
    )
    included = _entries(body, "include")
    assert f"Flag/{flag.pk}" in included
    tasks = [i for i in included if i.startswith("Task/")]
    assert tasks
    assert tasks == [
        f"Task/{t}" for t in _ids(coordinator, "Task", focus=f"EpisodeOfCare/{episode.pk}")
    ]
    # Only this team's: another team's flag is never included, whatever refers to what.
    assert all(not i.startswith("Flag/") or i == f"Flag/{flag.pk}" for i in included)


def test_revinclude_on_patients(coordinator, clinician, episode, patient):
    flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    body = _body(
        coordinator, "Patient", _id=patient.pk, _revinclude="EpisodeOfCare:patient,Flag:patient"
    )
    assert sorted(_entries(body, "include")) == sorted(
        [f"EpisodeOfCare/{episode.pk}", f"Flag/{flag.pk}"]
    )


def test_included_patients_are_audited(coordinator, clinician, episode):
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    before = AccessRecord.objects.count()
    _body(coordinator, "Flag", _include="Flag:patient,Flag:episode")
    shown = {r.patient_id for r in AccessRecord.objects.order_by("id")[before:]}
    assert shown == {episode.patient_id}


def test_include_never_reaches_another_team(coordinator, other_coordinator, episode):
    body = _body(other_coordinator, "Task", _include="Task:focus,Task:patient")
    assert body.get("entry") is None
    assert _entries(_body(coordinator, "Task", _include="Task:focus,Task:patient"), "include")


# -- _summary, _total, _elements --------------------------------------------------------------


def test_summary_count_and_totals(coordinator, team):
    PatientFactory.create_batch(3, care_team=team)
    for params in ({"_summary": "count"}, {"_count": "0"}, {"_totalMethod": "count"}):
        body = _body(coordinator, "Patient", **params)
        assert body["total"] == 3
        if "_totalMethod" not in params:
            assert "entry" not in body
    assert "total" not in _body(coordinator, "Patient", _total="none")
    assert _body(coordinator, "Patient", _total="accurate", _count=1)["total"] == 3
    assert _body(coordinator, "Communication", _summary="count")["total"] == 0


def test_elements_subset_and_tagged(coordinator, episode):
    body = _body(coordinator, "EpisodeOfCare", _elements="status,patient")
    resource = body["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "status", "patient"}
    assert {"code": "SUBSETTED"}.items() <= resource["meta"]["tag"][0].items()


# -- _sort ------------------------------------------------------------------------------------


def test_sort_by_dates_both_ways_across_pages(coordinator, team):
    born = [date(1990, 1, 1), date(1950, 6, 1), date(1970, 3, 3), date(1970, 3, 3)]
    patients = [PatientFactory(care_team=team, birth_date=d) for d in born]
    by_birth = [str(p.pk) for p in sorted(patients, key=lambda p: (p.birth_date, p.pk))]
    assert _walk(coordinator, "Patient", _sort="birthdate", _count=1) == by_birth
    assert _walk(coordinator, "Patient", _sort="-birthdate", _count=1) == by_birth[::-1]
    moments = [timezone.now() - timedelta(days=n) for n in (3, 1, 2, 5)]
    for p, at in zip(patients, moments, strict=True):
        Patient.objects.filter(pk=p.pk).update(updated_at=at)
    newest = [str(p.pk) for _at, p in sorted(zip(moments, patients, strict=True), reverse=True)]
    assert _walk(coordinator, "Patient", _sort="-_lastUpdated", _count=3) == newest


def test_sorts_and_includes_the_statement_declares_are_served(coordinator, episode):
    statement = _body(coordinator, "metadata")
    for resource in statement["rest"][0]["resource"]:
        kind = resource["type"]
        sorts = resource.get("documentation", "").partition("_sort: ")[2].partition(" (")[0]
        for name in filter(None, sorts.split(", ")):
            for value in (name, f"-{name}"):
                _body(coordinator, kind, _sort=value)
        for value in resource.get("searchInclude", []):
            _body(coordinator, kind, _include=value)
        for value in resource.get("searchRevInclude", []):
            _body(coordinator, kind, _revinclude=value)


# -- by episode, date and code; _lastUpdated on every type -------------------------------------


@pytest.fixture
def recorded(episode, coordinator, clinician, patient):
    """Two episodes of one patient, each with facts, a care-plan item, a note and a flag."""
    second = new_episode(patient, coordinator)
    for e in (episode, second):
        services.assessment_record(episode_id=e.pk, by=clinician, values={"disabling_pain": True})
        outreach_note_add(episode_id=e.pk, by=coordinator, kind="call_made", note="called")
    services.assessment_record(episode_id=episode.pk, by=clinician, values={"radicular_pain": True})
    services.care_plan_item_add(episode_id=episode.pk, by=clinician, item="nsaid")
    services.red_flag_raise(episode_id=second.pk, sign="fever", by=clinician)
    return episode, second


@pytest.mark.parametrize(
    "resource_type", ["Observation", "Condition", "CarePlan", "Communication", "Flag"]
)
def test_search_by_episode(coordinator, recorded, resource_type):
    episode, second = recorded
    everything = set(_ids(coordinator, resource_type))
    mine = _ids(coordinator, resource_type, episode=f"EpisodeOfCare/{episode.pk}")
    theirs = _ids(coordinator, resource_type, episode=second.pk)
    assert set(mine).isdisjoint(theirs)
    assert set(mine) | set(theirs) == everything
    both = _ids(coordinator, resource_type, episode=f"{episode.pk},{second.pk}")
    assert set(both) == everything


def test_observations_by_code_and_date(coordinator, recorded):
    everything = _body(coordinator, "Observation")["entry"]
    radicular = [
        e["resource"]["id"]
        for e in everything
        if e["resource"]["code"]["coding"][0]["code"] == "radicular_pain"
    ]
    assert radicular
    assert _ids(coordinator, "Observation", code="radicular_pain") == radicular
    assert _ids(coordinator, "Observation", code=f"{codes.FACTS}|radicular_pain") == radicular
    assert _ids(coordinator, "Observation", code="radicular-pain") == []  # careflow's codes
    assert _ids(coordinator, "Observation", code="http://loinc.org|radicular_pain") == []
    both = _ids(coordinator, "Observation", code="radicular_pain,disabling_pain")
    assert set(radicular) < set(both)
    today = timezone.now().date().isoformat()
    recorded_today = [
        e["resource"]["id"]
        for e in everything
        if e["resource"]["effectiveDateTime"].startswith(today)
    ]
    assert recorded_today
    assert _ids(coordinator, "Observation", date=today) == recorded_today
    assert _ids(coordinator, "Observation", date=f"gt{today}") == []
    earlier = _ids(coordinator, "Observation", date=f"lt{today}")
    assert sorted(earlier + recorded_today) == sorted(e["resource"]["id"] for e in everything)


def test_conditions_by_code_and_dates(coordinator, episode):
    Episode.objects.filter(pk=episode.pk).update(symptom_onset=date(2026, 3, 4))
    assert _ids(coordinator, "Condition", code="M54.17") == [str(episode.pk)]
    assert _ids(coordinator, "Condition", code="http://snomed.info/sct|2415007") == [
        str(episode.pk)
    ]
    # The lumbar region's codes are other conditions: only an episode enrolled with one.
    assert _ids(coordinator, "Condition", code="http://snomed.info/sct|128196005") == []
    assert _ids(coordinator, "Condition", code="M54.16") == []
    assert _ids(coordinator, "Condition", **{"onset-date": "2026-03"}) == [str(episode.pk)]
    assert _ids(coordinator, "Condition", **{"onset-date": "gt2026-03"}) == []
    recorded_on = episode.enrolled_on.isoformat()
    assert _ids(coordinator, "Condition", **{"recorded-date": recorded_on}) == [str(episode.pk)]


def test_careplans_by_activity_status_and_date(coordinator, clinician, recorded):
    episode, second = recorded
    assert _ids(coordinator, "CarePlan", **{"activity-code": "nsaid"}) == [str(episode.pk)]
    assert _ids(coordinator, "CarePlan", **{"activity-code": "opioid_short_term"}) == []
    assert _ids(coordinator, "CarePlan", status="active,completed") == [
        str(episode.pk),
        str(second.pk),
    ]
    services.episode_transition(
        episode_id=second.pk, name="close", by=clinician, data={"reason": "transferred"}
    )
    assert _ids(coordinator, "CarePlan", status="revoked") == [str(second.pk)]
    start = episode.conservative_care_start.isoformat()
    assert str(episode.pk) in _ids(coordinator, "CarePlan", date=start)


def test_communications_by_sent_and_category(coordinator, recorded):
    today = timezone.now().date()
    notes = _ids(coordinator, "Communication", sent=today.isoformat())
    assert len(notes) == 2
    assert _ids(coordinator, "Communication", sent=f"lt{today.isoformat()}") == []
    assert _ids(coordinator, "Communication", category="call_made") == notes
    assert _ids(coordinator, "Communication", category=f"{codes.OUTREACH}|call_made") == notes
    assert _ids(coordinator, "Communication", category="no_answer,reminder,alert") == []


TYPES = ["Patient", "EpisodeOfCare", "Condition", "Observation", "CarePlan", "Task", "Flag"]


@pytest.mark.parametrize("resource_type", [*TYPES, "Communication", "Questionnaire"])
def test_last_updated_on_every_type(coordinator, recorded, resource_type):
    """Every match's meta.lastUpdated is in the range asked, and nothing else matches."""
    everything = _body(coordinator, resource_type, _count=1000).get("entry", [])
    assert everything
    moments = sorted(
        datetime.fromisoformat(e["resource"]["meta"]["lastUpdated"]) for e in everything
    )
    cut = moments[0].isoformat().replace("+00:00", "Z")
    after = _body(coordinator, resource_type, _lastUpdated=f"gt{cut}", _count=1000)
    expected = [
        e["resource"]["id"]
        for e in everything
        if datetime.fromisoformat(e["resource"]["meta"]["lastUpdated"]) > moments[0]
    ]
    assert [e["resource"]["id"] for e in after.get("entry", [])] == expected
    ge = _body(coordinator, resource_type, _lastUpdated=f"ge{cut}", _count=1000)
    assert len(ge.get("entry", [])) == len(everything)


def test_last_updated_picks_up_a_flag_ruled_out(coordinator, clinician, recorded):
    _episode, second = recorded
    flag = RedFlag.objects.get(episode=second)
    since = timezone.now().isoformat().replace("+00:00", "Z")
    assert _ids(coordinator, "Flag", _lastUpdated=f"gt{since}") == []
    services.red_flag_rule_out(
        flag_id=flag.pk, episode_id=second.pk, by=clinician, note="afebrile on review"
    )
    assert _ids(coordinator, "Flag", _lastUpdated=f"gt{since}") == [str(flag.pk)]
    assert Assessment.objects.exists()
