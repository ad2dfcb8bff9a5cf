"""Team fixtures: a lead of Team A (an authenticator app set up, as leads sign in with one)."""

import pytest

from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def lead(team):
    user = UserFactory(username="lead-a", first_name="Lena", last_name="Lead")
    MembershipFactory(team=team, user=user, role="coordinator", is_lead=True)
    return user


@pytest.fixture
def other_lead(other_team):
    user = UserFactory(username="lead-b", first_name="Omar", last_name="Other")
    MembershipFactory(team=other_team, user=user, role="coordinator", is_lead=True)
    return user
