"""The patient's time zone is chosen from the IANA names, starting at the care team's.

No free text: a select of ``iana_zones()`` grouped by region. Its first choice is the
care team's zone (``CareTeam.timezone``), so a New York team's patient is not given the
server's UTC and reminded at 04:00; the coordinator may choose another.
"""

from __future__ import annotations

import pytest
from django.test import Client

from episodes.models import CareTeamMembership, Patient, iana_zones
from tests.clock import at_day
from tests.workspace.helpers import read

pytestmark = pytest.mark.django_db

ENROLMENT = {
    "given_name": "Iris",
    "family_name": "Zoned",
    "birth_date-day": "2",
    "birth_date-month": "3",
    "birth_date-year": "1980",
    "email": "iris@example.org",
    "symptom_onset-day": "1",
    "symptom_onset-month": "10",
    "symptom_onset-year": "2026",
}


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def zone_select(html: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    page = read(html)
    fields = [i for i in page.inputs if i.get("name") == "timezone"]
    return fields, [o for o in page.options if o.get("value") in iana_zones()]


def test_the_zone_is_a_list_of_iana_names_starting_at_the_team_zone(team, coordinator):
    team.timezone = "America/New_York"
    team.save()
    fields, options = zone_select(browser(coordinator).get("/enrol/").content.decode())
    assert [f["tag"] for f in fields] == ["select"]
    assert {o["value"] for o in options} == iana_zones()
    assert [o["value"] for o in options if "selected" in o] == ["America/New_York"]
    grouped = {o["value"]: o["group"] for o in options}
    assert grouped["America/New_York"] == "America"
    assert grouped["Europe/London"] == "Europe"
    assert grouped["US/Eastern"] == "Other names"


def test_without_a_choice_the_patient_gets_the_team_zone_not_the_server_one(team, coordinator):
    team.timezone = "America/New_York"
    team.save()
    with at_day(3):
        response = browser(coordinator).post("/enrol/", ENROLMENT)
    assert response.status_code == 302
    assert Patient.objects.get(family_name="Zoned").timezone == "America/New_York"


def test_another_zone_chosen_is_kept(team, coordinator):
    with at_day(3):
        response = browser(coordinator).post("/enrol/", {**ENROLMENT, "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert Patient.objects.get(family_name="Zoned").timezone == "Asia/Tokyo"


def test_a_name_not_in_the_list_is_refused(team, coordinator):
    with at_day(3):
        response = browser(coordinator).post("/enrol/", {**ENROLMENT, "timezone": "UTC+5"})
    assert response.status_code == 400
    assert read(response.content.decode()).summary == [
        ("#enrol-timezone", "Select the patient's time zone from the list")
    ]
    assert not Patient.objects.exists()


def test_with_two_teams_the_chosen_team_zone_is_the_default(team, other_team, coordinator):
    team.timezone = "America/New_York"
    team.save()
    other_team.timezone = "Europe/Madrid"
    other_team.save()
    CareTeamMembership.objects.create(team=other_team, user=coordinator, role="coordinator")
    _fields, options = zone_select(browser(coordinator).get("/enrol/").content.decode())
    # The teams disagree: no zone is chosen before the team is.
    assert not [o for o in options if "selected" in o]
    with at_day(3):
        response = browser(coordinator).post(
            "/enrol/", {**ENROLMENT, "care_team": str(other_team.pk)}
        )
    assert response.status_code == 302
    patient = Patient.objects.get(family_name="Zoned")
    assert (patient.care_team_id, patient.timezone) == (other_team.pk, "Europe/Madrid")
