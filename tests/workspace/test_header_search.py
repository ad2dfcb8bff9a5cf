"""Find anyone from the header: by name (any part, accents ignored) or date of birth.

Every patient of the user's care teams with every episode, open or not; the search is a
POST whose answer is the page (no name or birth date in a URL or the access log); an empty
or bad search says so; each patient shown is recorded as read.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from api.models import AccessRecord
from episodes import services
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode


def client_of(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


@pytest.fixture
def closed_and_open(team, coordinator, clinician):
    """Born 1977-09-26: a closed episode and an open one a colleague has."""
    patient = PatientFactory(
        care_team=team, given_name="José", family_name="Peña", birth_date=date(1977, 9, 26)
    )
    closed = new_episode(patient, coordinator)
    with at_day(3):
        services.episode_transition(
            episode_id=closed.pk, name="close", by=coordinator, data={"reason": "transferred"}
        )
    open_one = new_episode(patient, coordinator, day=4)
    services.episode_update(
        episode_id=open_one.pk, by=coordinator, fields={"assigned_to": clinician}
    )
    return patient, closed, open_one


def test_anyone_is_found_by_birth_date_or_name_with_every_episode(
    coordinator, other_team, closed_and_open
):
    patient, closed, open_one = closed_and_open
    PatientFactory(care_team=other_team, given_name="José", birth_date=date(1977, 9, 26))
    PatientFactory(care_team=patient.care_team, birth_date=date(1977, 9, 27))
    client = client_of(coordinator)
    with at_day(10):
        for text in ("1977-09-26", "26/09/1977", "pena", "JOSE PEÑ"):
            response = client.post("/search/", {"q": text})
            html = response.content.decode()
            assert response.status_code == 200, text
            assert "1 patient matches" in html, text
            assert "José Peña" in html
            assert "26 September 1977" in html
            assert 'aria-hidden="true">Age</span><span class="cf-cell-value">49</span>' in html
            assert f'<a href="/episodes/{closed.pk}/">Closed<' in html
            assert f'<a href="/episodes/{open_one.pk}/">Conservative care<' in html
        nobody = client.post("/search/", {"q": "Zebedee"}).content.decode()
    assert "0 patients match" in nobody
    assert "No patient of your care teams has that name or date of birth" in nobody


def test_the_search_is_a_post_kept_out_of_urls_and_recorded_as_a_read(coordinator, closed_and_open):
    patient, _, _ = closed_and_open
    client = client_of(coordinator)
    board = client.get("/").content.decode()
    header = board.split("</header>")[0]
    assert 'method="post" action="/search/"' in header
    assert 'name="csrfmiddlewaretoken"' in header.split('id="header-search"')[1]
    found = client.post("/search/", {"q": "1977-09-26"})
    assert found.status_code == 200  # the answer itself: no redirect carrying the words
    assert "no-store" in found["Cache-Control"]
    record = AccessRecord.objects.get(patient_id=patient.pk)
    assert (record.action, record.method, record.path, record.status_code) == (
        "read",
        "POST",
        "/search/",
        200,
    )
    # A search in a URL is not a search: the page only offers the form.
    asked = client.get("/search/", {"q": "pena"}).content.decode()
    assert "José Peña" not in asked
    assert AccessRecord.objects.filter(patient_id=patient.pk).count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a patient&#x27;s name or date of birth"),
        ("   ", "Enter a patient&#x27;s name or date of birth"),
        ("x" * 101, "Name or date of birth must be 100 characters or fewer"),
        ("31/02/1977", "Date of birth must be a real date, for example 26/09/1977"),
        ("a\x00b", "Name or date of birth must only include letters, numbers and spaces"),
    ],
)
def test_an_empty_or_bad_search_says_so_and_shows_nobody(
    coordinator, closed_and_open, text, message
):
    response = client_of(coordinator).post("/search/", {"q": text})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert html.count(message) == 2  # the error summary and the field's message
    assert "José Peña" not in html
    assert not AccessRecord.objects.exists()


def test_the_search_needs_a_login_and_its_csrf_token(client, coordinator, closed_and_open):
    anonymous = client.post("/search/", {"q": "pena"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    forged = client_of(coordinator, enforce_csrf_checks=True).post("/search/", {"q": "pena"})
    assert forged.status_code == 403


@pytest.mark.parametrize("n", [2, 40])
def test_a_search_costs_the_same_few_queries(coordinator, team, n, django_assert_max_num_queries):
    for i in range(n):
        patient = PatientFactory(care_team=team, given_name="Sam", family_name=f"Many{i}")
        new_episode(patient, coordinator)
    client = client_of(coordinator)
    # Session, user, the patients, their episodes, the access records.
    with django_assert_max_num_queries(5):
        html = client.post("/search/", {"q": "sam"}).content.decode()
    assert f"{n} patients match" in html
