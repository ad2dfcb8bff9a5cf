"""Paging of searchsets: _count, next / previous links, keyset-stable, scoped, audited."""

from __future__ import annotations

import pytest

from api.models import AccessRecord
from episodes import services
from episodes.models import Patient
from interop import paging
from tests.clients import client_for
from tests.factories import PatientFactory, bulk_episodes
from tests.interop.helpers import FHIR_JSON, validate
from workspace.services import outreach_note_add

pytestmark = pytest.mark.django_db


def _link(body: dict, relation: str) -> str | None:
    for link in body.get("link", []):
        if link["relation"] == relation:
            return link["url"]
    return None


def _walk(client, url: str, relation: str = "next") -> list[list[str]]:
    """Each page's ids from ``url`` on, following ``relation`` links until there is none."""
    pages = []
    while url:
        response = client.get(url, HTTP_ACCEPT=FHIR_JSON)
        assert response.status_code == 200, response.content
        body = response.json()
        validate(body)
        pages.append(
            [
                f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in body.get("entry", [])
            ]
        )
        url = _link(body, relation)
    return pages


@pytest.fixture
def rows(team, other_team, coordinator, other_coordinator):
    bulk_episodes(team, coordinator, 23)
    bulk_episodes(other_team, other_coordinator, 5)


@pytest.mark.parametrize("resource_type", ["Patient", "EpisodeOfCare", "Flag", "Task"])
def test_next_and_previous_walk_every_row_once(rows, coordinator, resource_type):
    client = client_for(coordinator)
    whole = _walk(client, f"/fhir/{resource_type}?_count=1000")
    assert len(whole) == 1
    expected = whole[0]
    assert len(expected) >= 23
    pages = _walk(client, f"/fhir/{resource_type}?_count=5")
    assert all(len(page) == 5 for page in pages[:-1])
    assert [i for page in pages for i in page] == expected
    # From the last page back to the first by the previous links.
    last = client.get(f"/fhir/{resource_type}?_count=5", HTTP_ACCEPT=FHIR_JSON).json()
    url = _link(last, "next")
    while url:
        body = client.get(url).json()
        if _link(body, "next") is None:
            break
        url = _link(body, "next")
    back = _walk(client, url, "previous")
    assert [i for page in reversed(back) for i in page] == expected


def test_first_page_links_and_count(rows, coordinator):
    body = client_for(coordinator).get("/fhir/Patient", {"_count": 10}).json()
    assert len(body["entry"]) == 10
    assert body["total"] == 23
    assert _link(body, "previous") is None
    assert "_count=10" in _link(body, "next")
    assert _link(body, "self").startswith("http://testserver/fhir/Patient?")
    one_page = client_for(coordinator).get("/fhir/Patient").json()
    assert _link(one_page, "next") is None
    assert len(one_page["entry"]) == 23


def test_pages_hold_when_rows_come_and_go(coordinator, team):
    """Keyset, not OFFSET: a row added or removed before the cursor moves nothing after it."""
    patients = PatientFactory.create_batch(15, care_team=team)
    client = client_for(coordinator)
    first = client.get("/fhir/Patient", {"_count": 5}).json()
    seen = [e["resource"]["id"] for e in first["entry"]]
    assert seen == [str(p.pk) for p in patients[:5]]
    Patient.objects.filter(pk=patients[0].pk).delete()
    added = PatientFactory(care_team=team)
    rest = [i.split("/")[1] for page in _walk(client, _link(first, "next")) for i in page]
    assert rest == [str(p.pk) for p in (*patients[5:], added)]


def test_a_search_merges_its_parameters_into_the_links(rows, coordinator, episode):
    client = client_for(coordinator)
    body = client.get(
        "/fhir/EpisodeOfCare", {"status": "active", "_count": 4}, HTTP_ACCEPT=FHIR_JSON
    ).json()
    assert "status=active" in _link(body, "next")
    pages = _walk(client, _link(body, "self"))
    assert all(i.startswith("EpisodeOfCare/") for page in pages for i in page)


def test_everything_pages(coordinator, clinician, episode):
    for sign in ("fever", "osteoporosis", "history_of_cancer"):
        services.red_flag_raise(episode_id=episode.pk, sign=sign, by=clinician)
    for n in range(4):
        services.assessment_record(
            episode_id=episode.pk, by=clinician, values={"disabling_pain": bool(n % 2)}
        )
    client = client_for(coordinator)
    path = f"/fhir/EpisodeOfCare/{episode.pk}/$everything"
    whole = client.get(path).json()
    everything = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in whole["entry"]]
    assert whole["total"] == len(everything) > 12
    pages = _walk(client, f"{path}?_count=4")
    assert len(pages) == -(-len(everything) // 4)
    assert [i for page in pages for i in page] == everything
    assert everything[:2] == [f"Patient/{episode.patient_id}", f"EpisodeOfCare/{episode.pk}"]


def test_communications_page_by_time_across_both_kinds(coordinator, episode):
    for n in range(7):
        outreach_note_add(episode_id=episode.pk, by=coordinator, kind="call_made", note=f"n{n}")
    client = client_for(coordinator)
    whole = _walk(client, "/fhir/Communication")[0]
    assert len(whole) == 7
    pages = _walk(client, "/fhir/Communication?_count=3")
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for page in pages for i in page] == whole


def test_pages_stay_inside_the_care_team(rows, other_coordinator):
    pages = _walk(client_for(other_coordinator), "/fhir/Patient?_count=2")
    assert sum(len(p) for p in pages) == 5


def test_each_page_is_audited(rows, coordinator):
    client = client_for(coordinator)
    before = AccessRecord.objects.count()
    pages = _walk(client, "/fhir/Patient?_count=10")
    shown = [int(i.split("/")[1]) for page in pages for i in page]
    records = AccessRecord.objects.order_by("id")[before:]
    assert sorted(r.patient_id for r in records) == sorted(shown)


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "e30",
        "eyJkIjoibiIsImsiOlsiYSJdfQ",
        "eyJkIjoibiIsImsiOlsiOTk5OTk5OTk5OTk5OTk5OTk5OTk5Il19",
        "!!",
        "a" * 3000,
    ],
)
@pytest.mark.parametrize(
    "path", ["Patient", "Task", "Communication", "Questionnaire", "EpisodeOfCare/{}/$everything"]
)
def test_a_bad_cursor_is_a_400_naming_it(coordinator, episode, cursor, path):
    response = client_for(coordinator).get(
        f"/fhir/{path.format(episode.pk)}", {"_cursor": cursor}, HTTP_ACCEPT=FHIR_JSON
    )
    assert response.status_code == 400, response.content
    body = response.json()
    validate(body)
    assert "_cursor" in body["issue"][0]["diagnostics"]


def test_count_maximum(coordinator):
    client = client_for(coordinator)
    assert client.get("/fhir/Patient", {"_count": 1000}).status_code == 200
    refused = client.get("/fhir/Patient", {"_count": 1001}).json()
    assert "1 to 1000" in refused["issue"][0]["diagnostics"]


def test_a_post_search_keeps_names_out_of_its_links(coordinator, clinician, team):
    named = PatientFactory.create_batch(5, care_team=team, family_name="Quintero")
    PatientFactory.create_batch(3, care_team=team, family_name="Other")
    client = client_for(coordinator)
    form = "application/x-www-form-urlencoded"
    first = client.post("/fhir/Patient/_search", "name=quint&_count=2", content_type=form).json()
    validate(first)
    following = _link(first, "next")
    assert "quint" not in following.lower()
    assert "_search_id=" in following
    pages = [[e["resource"]["id"] for e in first["entry"]]]
    pages += [[i.split("/")[1] for i in page] for page in _walk(client, following)]
    assert [i for page in pages for i in page] == [str(p.pk) for p in named]
    assert "quint" not in _link(first, "self").lower()
    one_page = client.post("/fhir/Patient/_search", "name=quint", content_type=form).json()
    assert _link(one_page, "self") == "http://testserver/fhir/Patient/_search"
    # The saved search is the searcher's only.
    other = client_for(clinician).get(following)
    assert other.status_code == 400
    assert "_search_id" in other.json()["issue"][0]["diagnostics"]


def test_total_is_left_out_beyond_the_bound(rows, coordinator, monkeypatch):
    monkeypatch.setattr(paging, "TOTAL_LIMIT", 20)
    body = client_for(coordinator).get("/fhir/Patient", {"_count": 5}).json()
    assert "total" not in body
    assert len(body["entry"]) == 5
    monkeypatch.setattr(paging, "TOTAL_LIMIT", 23)
    assert client_for(coordinator).get("/fhir/Patient").json()["total"] == 23
