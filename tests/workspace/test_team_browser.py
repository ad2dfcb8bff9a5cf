"""A team lead's day in Chromium: invite someone, who joins and signs in; then they leave.

The lead invites by email; the invitee follows the emailed link, chooses a password and is
signed in; the lead deactivates them (after confirming) and the invitee's next request is
signed out. Every page passes axe-core and none scrolls sideways at a phone's width.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from tests.chromium import PHONE, check_accessibility, sign_in
from tests.factories import MembershipFactory, UserFactory
from tests.teams.helpers import emailed_token

NEW_PASSWORD = "a-long-new-passphrase-9"  # noqa: S105 - a test value
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.django_db(transaction=True)
def test_a_lead_invites_the_invitee_joins_then_is_deactivated(new_page, live_server, team):
    lead = UserFactory(username="lead-a", first_name="Lena", last_name="Lead")
    MembershipFactory(team=team, user=lead, role="coordinator", is_lead=True)

    page = new_page()
    sign_in(page, live_server, lead)
    page.get_by_role("link", name="Your team").click()
    page.get_by_role("heading", name="Team A").wait_for()
    check_accessibility(page, "team")
    page.get_by_role("link", name="Invite someone").click()

    page.get_by_role("button", name="Send the invitation").click()
    summary = page.locator(".nhsuk-error-summary")
    assert "Enter the person's given name" in summary.inner_text()
    check_accessibility(page, "team-invite-errors")
    page.get_by_label("Given name").fill("Nia")
    page.get_by_label("Family name").fill("Okafor")
    page.get_by_label("Email address").fill("nia@example.org")
    page.get_by_label("Coordinator").check()
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("Nia Okafor is invited").wait_for()

    invitee = new_page(PHONE)
    invitee.goto(f"{live_server.url}/invitations/{emailed_token('nia@example.org')}/")
    invitee.get_by_role("heading", name="Join Team A").wait_for()
    check_accessibility(invitee, "invitation")
    assert invitee.evaluate(NO_SIDEWAYS)
    invitee.get_by_label("Choose a password").fill(NEW_PASSWORD)
    invitee.get_by_label("Type the password again").fill(NEW_PASSWORD)
    invitee.get_by_role("button", name="Join and sign in").click()
    invitee.wait_for_url(f"{live_server.url}/")
    assert "Signed in as nia@example.org" in invitee.content()

    page.goto(f"{live_server.url}/teams/{team.pk}/")
    members = page.get_by_role("table", name="Members", exact=True)
    row = members.get_by_role("row").filter(has_text="Nia Okafor")
    assert "Active" in row.inner_text()
    row.get_by_role("link", name=re.compile("Deactivate")).click()
    page.get_by_role("heading", name="Deactivate Nia Okafor?").wait_for()
    check_accessibility(page, "team-deactivate")
    page.get_by_role("button", name="Deactivate Nia Okafor").click()
    page.get_by_text("Nia Okafor is deactivated and signed out everywhere").wait_for()
    assert "Deactivated" in members.get_by_role("row").filter(has_text="Nia Okafor").inner_text()
    changes = page.get_by_role("table", name=re.compile("Changes")).inner_text()
    assert "Deactivated" in changes
    assert "Joined" in changes
    assert "Invited" in changes

    invitee.reload()
    invitee.wait_for_url(re.compile(r"/login/"))
    invitee.get_by_role("heading", name="Sign in").wait_for()

    # The lead's pages at a phone's width: no sideways scroll.
    phone = new_page(PHONE)
    sign_in(phone, live_server, lead)
    nia = get_user_model().objects.get(username="nia@example.org")
    for path in (
        f"/teams/{team.pk}/",
        f"/teams/{team.pk}/invite/",
        f"/teams/{team.pk}/members/{nia.pk}/deactivate/",
    ):
        phone.goto(f"{live_server.url}{path}")
        assert phone.evaluate(NO_SIDEWAYS), path
