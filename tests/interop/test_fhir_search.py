"""Searches as FHIR clients make them, and the CapabilityStatement against what is served.

Every type by patient and _id, _lastUpdated, comma lists, partial dates, POST _search with
a query string, refusals in words; the CapabilityStatement walked both ways.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.urls import get_resolver

from api.models import AccessRecord
from episodes import services
from episodes.models import Episode, Patient
from interop.selectors import LOCATORS
from interop.urls import SEARCHES
from tests.clients import client_for
from tests.factories import PatientFactory, new_episode
from tests.interop.helpers import FHIR_JSON, validate
from workspace.services import outreach_note_add

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def _get(user, path: str, **params):
    return client_for(user).get(f"/fhir/{path}", params, HTTP_ACCEPT=FHIR_JSON)


def _ids(user, path: str, **params) -> list[str]:
    response = _get(user, path, **params)
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    return [e["resource"]["id"] for e in body.get("entry", [])]


@pytest.fixture
def two_patients(episode, other_episode, coordinator, clinician, other_coordinator):
    """Team A's episode with a fact, a care-plan item and a note; Team B's the same."""
    for e, by in ((episode, clinician), (other_episode, other_coordinator)):
        services.assessment_record(
            episode_id=e.pk, by=by, values={"disabling_pain": True, "radicular_pain": True}
        )
        services.care_plan_item_add(episode_id=e.pk, by=by, item="nsaid")
        outreach_note_add(episode_id=e.pk, by=by, kind="call_made", note="called")
    second = new_episode(
        PatientFactory(care_team=episode.care_team), coordinator, radicular_pain=True
    )
    return episode, second, other_episode


@pytest.mark.parametrize("resource_type", ["Observation", "Condition", "CarePlan", "Communication"])
def test_search_by_patient_and_id_within_the_team(
    two_patients, coordinator, other_coordinator, resource_type
):
    episode, second, other_episode = two_patients
    mine = _ids(coordinator, resource_type, patient=episode.patient_id)
    assert mine
    assert set(mine).isdisjoint(_ids(coordinator, resource_type, patient=second.patient_id))
    # Another team's patient, named: nothing, as if there were none.
    assert _ids(coordinator, resource_type, patient=other_episode.patient_id) == []
    assert _ids(other_coordinator, resource_type, patient=episode.patient_id) == []
    assert _ids(coordinator, resource_type, _id=mine[0]) == [mine[0]]
    assert _ids(coordinator, resource_type, _id=",".join(mine)) == mine
    assert _ids(other_coordinator, resource_type, _id=mine[0]) == []
    # Each resource found is read as its own read says it is.
    for rid in mine:
        read = client_for(coordinator).get(f"/fhir/{resource_type}/{rid}").json()
        found = _get(coordinator, resource_type, _id=rid).json()["entry"][0]["resource"]
        assert found == read


def test_searches_are_audited_per_patient_shown(two_patients, coordinator):
    episode, second, _other = two_patients
    before = AccessRecord.objects.count()
    _ids(coordinator, "Observation")
    shown = {r.patient_id for r in AccessRecord.objects.order_by("id")[before:]}
    assert shown == {episode.patient_id, second.patient_id}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_last_updated(coordinator, team):
    old, new = PatientFactory.create_batch(2, care_team=team)
    Patient.objects.filter(pk=old.pk).update(updated_at=_at("2026-03-01T12:00:00+00:00"))
    Patient.objects.filter(pk=new.pk).update(updated_at=_at("2026-06-15T08:00:00+00:00"))
    old_id, new_id = str(old.pk), str(new.pk)
    assert _ids(coordinator, "Patient", _lastUpdated="gt2026-03-01") == [new_id]
    assert _ids(coordinator, "Patient", _lastUpdated="le2026-03") == [old_id]
    assert _ids(coordinator, "Patient", _lastUpdated="2026") == [old_id, new_id]
    assert _ids(coordinator, "Patient", _lastUpdated="2026-06-15") == [new_id]
    assert _ids(coordinator, "Patient", _lastUpdated="lt2026-03-01T12:00:00Z") == []
    assert _ids(coordinator, "Patient", _lastUpdated="ge2026-03-01T12:00:00Z") == [
        old_id,
        new_id,
    ]
    assert _ids(coordinator, "Patient", _lastUpdated="gt2026-03-01T12:00:00.5+00:00") == [new_id]
    assert _ids(coordinator, "Patient", _lastUpdated="2026-03-01T13:00+01:00") == [old_id]


def test_last_updated_of_episodes_and_conditions(coordinator, episode, patient):
    later = new_episode(patient, coordinator)
    Episode.objects.filter(pk=episode.pk).update(updated_at=_at("2026-01-10T10:00:00+00:00"))
    Episode.objects.filter(pk=later.pk).update(updated_at=_at("2026-02-10T10:00:00+00:00"))
    for kind in ("EpisodeOfCare", "Condition"):
        assert _ids(coordinator, kind, _lastUpdated="ge2026-02") == [str(later.pk)]
        assert _ids(coordinator, kind, _lastUpdated="lt2026-02") == [str(episode.pk)]
        read = client_for(coordinator).get(f"/fhir/{kind}/{later.pk}").json()
        assert read["meta"]["lastUpdated"].startswith("2026-02-10T10:00:00")


def test_comma_lists_of_statuses(coordinator, clinician, episode, patient):
    other = new_episode(patient, coordinator)
    services.episode_transition(
        episode_id=other.pk, name="close", by=clinician, data={"reason": "transferred"}
    )
    both = _ids(coordinator, "EpisodeOfCare", status="active,finished")
    assert both == [str(episode.pk), str(other.pk)]
    assert _ids(coordinator, "EpisodeOfCare", status="planned,waitlist") == []
    assert _ids(coordinator, "Task", status="ready,requested")
    assert _ids(coordinator, "Task", status="ready") == _ids(
        coordinator, "Task", status="ready,requested"
    )
    assert _ids(coordinator, "Task", status="completed,cancelled") == []
    flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    assert _ids(coordinator, "Flag", status="active,inactive") == [str(flag.pk)]
    assert _ids(coordinator, "Flag", status="inactive") == []


def test_partial_dates(coordinator, team):
    born = {
        d: PatientFactory(care_team=team, birth_date=d)
        for d in (date(1983, 12, 31), date(1984, 5, 2), date(1984, 12, 31), date(1985, 1, 1))
    }
    ids = {d: str(p.pk) for d, p in born.items()}
    assert _ids(coordinator, "Patient", birthdate="1984") == [
        ids[date(1984, 5, 2)],
        ids[date(1984, 12, 31)],
    ]
    assert _ids(coordinator, "Patient", birthdate="1984-05") == [ids[date(1984, 5, 2)]]
    assert _ids(coordinator, "Patient", birthdate="gt1984") == [ids[date(1985, 1, 1)]]
    assert _ids(coordinator, "Patient", birthdate="lt1984") == [ids[date(1983, 12, 31)]]
    assert _ids(coordinator, "Patient", birthdate="le1984-05") == [
        ids[date(1983, 12, 31)],
        ids[date(1984, 5, 2)],
    ]
    assert _ids(coordinator, "Patient", birthdate="ge1984-12-31") == [
        ids[date(1984, 12, 31)],
        ids[date(1985, 1, 1)],
    ]


def test_task_period_takes_partial_dates(coordinator, episode):
    everything = _get(coordinator, "Task", patient=episode.patient_id).json()["entry"]
    first = min(e["resource"]["restriction"]["period"]["end"] for e in everything)
    month = first[:7]
    in_month = _get(coordinator, "Task", period=month).json().get("entry", [])
    assert in_month
    assert all(e["resource"]["restriction"]["period"]["end"][:7] == month for e in in_month)


def test_post_search_merges_the_query_string(coordinator, team):
    match = PatientFactory(care_team=team, family_name="Quay", birth_date=date(1984, 5, 2))
    PatientFactory(care_team=team, family_name="Quay", birth_date=date(1990, 1, 1))
    client = client_for(coordinator)
    before = AccessRecord.objects.count()
    body = client.post(
        "/fhir/Patient/_search?birthdate=1984", "name=quay", content_type=FORM
    ).json()
    validate(body)
    assert [e["resource"]["id"] for e in body["entry"]] == [str(match.pk)]
    # Only the patient shown is audited as read.
    assert [r.patient_id for r in AccessRecord.objects.order_by("id")[before:]] == [match.pk]
    twice = client.post("/fhir/Patient/_search?name=a", "name=quay", content_type=FORM)
    assert twice.status_code == 400
    assert "give name once" in twice.json()["issue"][0]["diagnostics"]
    unknown = client.post("/fhir/Patient/_search?colour=blue", "name=quay", content_type=FORM)
    assert unknown.status_code == 400


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("Patient?colour=blue", "unsupported search parameter: colour"),
        ("Patient?colour=blue&_has=x", "unsupported search parameters: _has, colour"),
        ("Patient?_sort=name", "_sort: name is not served here"),
        ("Task?_sort=-_lastUpdated", "_sort: -_lastUpdated is not served here"),
        ("Patient?_summary=text", "_summary: text is not served"),
        ("Task?_summary=count", "_summary: count is not served"),
        ("Observation?_total=accurate", "_total: accurate is not served"),
        ("Patient?_total=maybe", "_total: maybe is not served"),
        ("Patient?_elements=na-me", "_elements: a comma list of top-level element names"),
        ("Patient?_include=Patient:organization", "_include: Patient:organization is not"),
        ("Flag?_revinclude=Task:focus", "_revinclude: Task:focus is not served here"),
        ("Observation?component-code=x", "unsupported search parameter: component-code"),
        ("Condition?episode=Patient/1", "episode: an EpisodeOfCare id"),
        ("EpisodeOfCare?status=bogus", "status: bogus is not a code of planned"),
        ("Patient?birthdate=yesterday", "birthdate: a date (YYYY, YYYY-MM or YYYY-MM-DD)"),
        ("Patient?_count=-1", "_count: a whole number from 1 to 1000"),
        ("Task?_count=0", "_count: 0 (the total alone) is not served"),
    ],
)
def test_refusals_name_the_parameter_in_words(coordinator, path, words):
    response = client_for(coordinator).get(f"/fhir/{path}", HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code == 400
    body = response.json()
    validate(body)
    text = " ".join(i["diagnostics"] for i in body["issue"])
    assert words in text
    assert "ErrorDetail" not in response.content.decode()
    assert "[" not in text


@pytest.mark.parametrize("value", ["xml", "application/fhir+xml", "text/turtle", "html"])
def test_a_format_other_than_json_is_a_406(coordinator, episode, value):
    client = client_for(coordinator)
    for path in ("Patient", f"Patient/{episode.patient_id}", "metadata"):
        response = client.get(f"/fhir/{path}", {"_format": value})
        assert response.status_code == 406, path
        body = response.json()
        validate(body)
        assert "JSON only" in body["issue"][0]["diagnostics"]
    assert client.get("/fhir/Patient", {"_format": "json"}).status_code == 200
    assert client.get("/fhir/Patient", {"_format": "application/fhir+json"}).status_code == 200


def test_interactions_not_served_are_405(coordinator, episode):
    client = client_for(coordinator)
    created = client.post(
        "/fhir/Patient", {"resourceType": "Patient"}, format="json", HTTP_ACCEPT=FHIR_JSON
    )
    assert created.status_code == 405
    validate(created.json())
    assert "POST" not in created["Allow"]
    assert client.post("/fhir/Condition", {}, format="json").status_code == 405
    assert client.put(f"/fhir/Patient/{episode.patient_id}", {}, format="json").status_code == 405
    assert client.delete("/fhir/Patient").status_code == 405
    assert client.patch(f"/fhir/EpisodeOfCare/{episode.pk}", {}, format="json").status_code == 405


# A value each declared parameter takes, by its FHIR type (a status: its first listed code).
SAMPLES = {
    "date": "ge2000-01",
    "reference": "1",
    "string": "a",
    "token": "1",
    "uri": "http://example.org",
}


def test_the_capability_statement_and_what_is_served_match(coordinator, episode):
    client = client_for(coordinator)
    statement = client.get("/fhir/metadata").json()
    validate(statement)
    declared = {r["type"]: r for r in statement["rest"][0]["resource"]}
    searchable = {t for t, r in declared.items() if {"code": "search-type"} in r["interaction"]}
    assert searchable == set(SEARCHES)
    assert {t for t, r in declared.items() if {"code": "read"} in r["interaction"]} >= set(LOCATORS)
    routes = {str(p.pattern) for p in get_resolver("interop.urls").url_patterns}
    for resource_type in searchable:
        assert resource_type in routes
        assert f"{resource_type}/_search" in routes
        assert client.get(f"/fhir/{resource_type}").status_code == 200, resource_type
        for param in declared[resource_type].get("searchParam", []):
            value = SAMPLES[param["type"]]
            if param["name"] == "status":
                value = {
                    "EpisodeOfCare": "active",
                    "Task": "ready",
                    "Flag": "active",
                    "CarePlan": "active",
                }[resource_type]
            response = client.get(f"/fhir/{resource_type}", {param["name"]: value})
            assert response.status_code == 200, (resource_type, param["name"], response.content)
        # And a parameter it does not declare is refused, naming it.
        refused = client.get(f"/fhir/{resource_type}", {"_sort": "_id"})
        assert refused.status_code == 400
        assert "_sort" in refused.json()["issue"][0]["diagnostics"]
    for resource_type in declared.keys() - searchable:
        assert client.get(f"/fhir/{resource_type}").status_code in (404, 405), resource_type


HOSTILE = [
    "Patient?birthdate=9999",
    "Patient?birthdate=gt9999-12",
    "Patient?birthdate=0000",
    "Patient?birthdate=1984-02-30",
    "Patient?_lastUpdated=ge9999-12-31T23:59:59.999999+14:00",
    "Patient?_lastUpdated=2026-01-01T25:00:00Z",
    "Patient?_lastUpdated=" + "9" * 500,
    "Patient?_id=" + ",".join(["1"] * 101),
    f"Patient?_id={2**70}",
    "Patient?_id=,",
    "EpisodeOfCare?patient=,,",
    "EpisodeOfCare?patient=Patient/" + "9" * 30,
    "Task?_id=1-" + "x" * 300,
    "Task?_id=-",
    "Observation?_id=99999999999999999999-a",
    "Communication?_id=outreach-" + "9" * 40,
    "Questionnaire?_id=%00",
    "Patient?_search_id=../../etc",
    "Patient?_search_id=" + "a" * 100,
    "Patient?_cursor=" + "A" * 1999,
    "Task?_cursor=eyJkIjoibiIsImsiOlsiMSIsIngiXX0",
    "Task?_cursor=eyJkIjoicCIsImsiOlsiMCIsIngiXX0",
    "Communication?_cursor=eyJkIjoibiIsImsiOlsieCIsIjAiLCIxIl19",
    "EpisodeOfCare/1/$everything?_cursor=eyJkIjoibiIsImsiOlsie30iLCJbXSJdfQ",
    "Patient?_format=",
    "Patient?status=active",
    "Patient?_include=",
    "Patient?_sort=-",
    "Patient?_sort=--birthdate",
    "Patient?_elements=,",
    "Patient?_summary=count&_count=-1",
    "Patient?_totalMethod=" + "x" * 300,
    "EpisodeOfCare?_revinclude=Flag:episode,Flag:episode,Task:focus",
    "Condition?code=|",
    "Condition?onset-date=9999-99",
    "Observation?code=" + ",".join(["x"] * 100),
    "CarePlan?status=active&_sort=date&_cursor=eyJkIjoibiIsImsiOlsieCIsIjEiXX0",
    "Communication?sent=gt9999-12-31T23:59:59Z",
    "Patient/1/_history?_since=yesterday",
    "Patient/1/_history/%00",
    "EpisodeOfCare/1/_history/" + "1" * 500,
]


@pytest.mark.parametrize("path", HOSTILE)
def test_no_input_is_a_500(coordinator, episode, path):
    response = client_for(coordinator).get(f"/fhir/{path}", HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code in (200, 400, 404, 406), (path, response.content[:300])
    body = response.json()
    validate(body)
    if response.status_code != 200:
        assert "ErrorDetail" not in response.content.decode()
