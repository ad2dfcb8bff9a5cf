"""The enrolment page costs a fixed number of queries, whatever the care teams hold.

Session, user, the user's care teams: the time-zone list is the tz database's, not a query.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.clock import at_day
from tests.factories import CareTeamFactory, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db

ENROL_QUERY_BUDGET = 3


@pytest.mark.parametrize("teams", [1, 5])
def test_the_form_and_a_refusal_cost_three_queries(
    coordinator, team, teams, django_assert_max_num_queries
):
    for n in range(teams - 1):
        MembershipFactory(team=CareTeamFactory(name=f"Extra {n}"), user=coordinator)
    PatientFactory.create_batch(3, care_team=team)
    client = Client()
    client.force_login(coordinator)
    with django_assert_max_num_queries(ENROL_QUERY_BUDGET):
        assert client.get("/enrol/").status_code == 200
    with at_day(3), django_assert_max_num_queries(ENROL_QUERY_BUDGET):
        assert client.post("/enrol/", {"given_name": "Iris"}).status_code == 400
