"""Find anyone: patients by any part of the name (accents ignored) or date of birth (API.md).

Every patient of the user's care teams, whatever their episodes' states, each with its
episodes; never another team's; the search can be sent in a body, out of the URL.
"""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

from episodes import services
from episodes.models import Patient
from episodes.selectors import patient_search
from tests.clients import url
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode


def names(response) -> list[str]:
    return [row["display_name"] for row in response.json()["results"]]


def test_any_part_of_the_name_accents_and_case_ignored(as_user, team, coordinator):
    PatientFactory(care_team=team, given_name="José", family_name="Ruíz-Peña")
    PatientFactory(care_team=team, given_name="Joseph", family_name="Smith")
    PatientFactory(care_team=team, given_name="Ana", family_name="Ruiz")
    client = as_user(coordinator)
    assert names(client.get(url("patients/"), {"q": "ruiz"})) == ["Ana Ruiz", "José Ruíz-Peña"]
    assert names(client.get(url("patients/"), {"q": "JOSE"})) == ["José Ruíz-Peña", "Joseph Smith"]
    assert names(client.get(url("patients/"), {"q": "peña jos"})) == ["José Ruíz-Peña"]
    assert names(client.get(url("patients/"), {"q": "pena"})) == ["José Ruíz-Peña"]
    assert names(client.get(url("patients/"), {"q": "nobody"})) == []
    assert names(client.get(url("patients/"), {"q": "100%"})) == []  # % is a letter here


def test_by_date_of_birth_with_every_episode_open_or_not(as_user, team, coordinator):
    patient = PatientFactory(care_team=team, birth_date=date(1977, 9, 26))
    PatientFactory(care_team=team, birth_date=date(1977, 9, 27))
    closed = new_episode(patient, coordinator)
    with at_day(3):
        services.episode_transition(
            episode_id=closed.pk, name="close", by=coordinator, data={"reason": "transferred"}
        )
    open_one = new_episode(patient, coordinator, day=4)
    client = as_user(coordinator)
    for text in ("1977-09-26", "26/09/1977"):
        body = client.post(url("patients/_search"), {"q": text}, format="json").json()
        assert [row["id"] for row in body["results"]] == [patient.pk]
        assert body["results"][0]["episodes"] == [
            {"id": closed.pk, "state": "closed"},
            {"id": open_one.pk, "state": "conservative_care"},
        ]


def test_never_another_care_teams_patient(as_user, team, other_team, coordinator):
    PatientFactory(care_team=other_team, given_name="Zoe", family_name="Elsewhere")
    mine = PatientFactory(care_team=team, given_name="Zoe", family_name="Here")
    body = as_user(coordinator).post(url("patients/_search"), {"q": "zoe"}, format="json")
    assert [row["id"] for row in body.json()["results"]] == [mine.pk]


def test_bad_searches_are_400_and_an_empty_one_lists_everyone(as_user, team, coordinator):
    PatientFactory(care_team=team)
    client = as_user(coordinator)
    for body in ({}, {"q": ""}, {"q": "x" * 101}, {"q": "a\x00b"}, {"q": "a", "other": 1}):
        response = client.post(url("patients/_search"), body, format="json")
        assert response.status_code == 400, body
    assert client.get(url("patients/"), {"q": "a\x00b"}).status_code == 400
    assert len(client.get(url("patients/"), {"q": ""}).json()["results"]) == 1


def test_pages_of_a_search(as_user, team, coordinator):
    for i in range(7):
        PatientFactory(care_team=team, given_name="Sam", family_name=f"Page{i}")
    client = as_user(coordinator)
    seen, path = [], url("patients/_search?page_size=3")
    while path:
        body = client.post(path, {"q": "sam"}, format="json").json()
        seen.extend(row["family_name"] for row in body["results"])
        path = body["next"]
    assert seen == [f"Page{i}" for i in range(7)]


def test_a_name_search_reads_the_trigram_index(team, superuser):
    """The search's expression is the index's: patient_name_trigram can answer it.

    With the table's scans and plain index scans forbidden, the plan still answers the
    search, from the trigram index (a bitmap scan: a GIN index has no other).
    """
    PatientFactory(care_team=team, given_name="Ana", family_name="Ruiz")
    query = patient_search(superuser, "ruiz")  # every team's: the name alone narrows it
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patient_name_trigram" in plan, plan
    assert list(query) == list(Patient.objects.filter(family_name="Ruiz"))
