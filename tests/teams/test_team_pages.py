"""The team pages: who may open them, and each change through them."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from episodes.models import CareTeamMembership
from teams.models import Invitation, TeamChange
from tests.teams.helpers import emailed_token

PASSWORD = "a-long-new-passphrase-9"  # noqa: S105 - a test value


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_lead_sees_members_with_names_roles_and_sign_ins(lead, team, coordinator, clinician):
    coordinator.first_name, coordinator.last_name = "Cora", "Ordin"
    coordinator.save()
    page = signed_in(lead).get(f"/teams/{team.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Cora Ordin" in text
    assert "clin-a" in text  # no full name: the username
    assert "Lena Lead" in text
    assert "team lead" in text
    assert "Never" in text  # nobody else has signed in
    assert "Active" in text


def test_the_nav_link_is_for_leads(lead, coordinator, team):
    assert "Your team" in signed_in(lead).get("/").content.decode()
    assert "Your team" not in signed_in(coordinator).get("/").content.decode()
    lead_page = signed_in(lead).get("/team/")
    assert lead_page.status_code == 302
    assert lead_page["Location"] == f"/teams/{team.pk}/"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/teams/{team}/", "get"),
        ("/teams/{team}/invite/", "get"),
        ("/teams/{team}/invite/", "post"),
        ("/teams/{team}/members/{member}/role/", "post"),
        ("/teams/{team}/members/{member}/deactivate/", "get"),
        ("/teams/{team}/members/{member}/deactivate/", "post"),
        ("/teams/{team}/lead/", "post"),
    ],
)
def test_a_coordinator_gets_403_and_another_teams_lead_404(  # noqa: PLR0917 - fixtures
    path, method, lead, team, coordinator, clinician, other_lead
):
    url = path.format(team=team.pk, member=clinician.pk)
    data = {"role": "coordinator", "confirm": "yes", "email": "x@example.org"}
    refused = getattr(signed_in(coordinator), method)(url, data)
    assert refused.status_code == 403
    assert "leads manage its members" in refused.content.decode()
    assert getattr(signed_in(other_lead), method)(url, data).status_code == 404
    clinician.refresh_from_db()
    assert clinician.is_active
    assert CareTeamMembership.objects.get(user=clinician).role == "clinician"
    assert not TeamChange.objects.exists()
    assert not Invitation.objects.exists()


def test_a_coordinator_asking_for_their_team_gets_403(coordinator):
    assert signed_in(coordinator).get("/team/").status_code == 403


def test_the_invite_form_shows_every_problem_in_the_error_summary(lead, team):
    page = signed_in(lead).post(
        f"/teams/{team.pk}/invite/",
        {"given_name": "", "family_name": "Okafor", "email": "nope", "role": "coordinator"},
    )
    assert page.status_code == 400
    text = page.content.decode()
    summary = text[text.index("nhsuk-error-summary") : text.index("</ul>")]
    assert re.findall(r'href="#(\w+)"', summary) == ["given_name", "email"]
    assert "Enter the person&#x27;s given name" in summary
    assert not Invitation.objects.exists()


def test_invite_accept_and_sign_in(lead, team, django_capture_on_commit_callbacks):
    client = signed_in(lead)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            f"/teams/{team.pk}/invite/",
            {
                "given_name": "Nia",
                "family_name": "Okafor",
                "email": "nia@example.org",
                "role": "coordinator",
            },
        )
    assert answer.status_code == 302
    team_page = client.get(answer["Location"]).content.decode()
    assert "Nia Okafor is invited" in team_page
    assert "nia@example.org" in team_page
    assert len(mail.outbox) == 1
    token = emailed_token("nia@example.org")

    invitee = Client()
    page = invitee.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert "Join Team A" in page.content.decode()
    mistyped = invitee.post(
        f"/invitations/{token}/", {"password": PASSWORD, "password_again": "other"}
    )
    assert mistyped.status_code == 400
    assert 'href="#password_again"' in mistyped.content.decode()
    joined = invitee.post(
        f"/invitations/{token}/", {"password": PASSWORD, "password_again": PASSWORD}
    )
    assert joined.status_code == 302
    assert joined["Location"] == "/"
    assert invitee.get("/").status_code == 200  # signed in, a coordinator: no second factor
    assert Client().get(f"/invitations/{token}/").status_code == 410
    assert "Joined" in client.get(f"/teams/{team.pk}/").content.decode()


def test_a_clinician_invitee_sets_up_an_app_before_being_signed_in(
    lead, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(lead).post(
            f"/teams/{team.pk}/invite/",
            {
                "given_name": "Ike",
                "family_name": "Bello",
                "email": "ike@example.org",
                "role": "clinician",
            },
        )
    invitee = Client()
    token = emailed_token("ike@example.org")
    answer = invitee.post(
        f"/invitations/{token}/", {"password": PASSWORD, "password_again": PASSWORD}
    )
    assert answer["Location"] == "/login/set-up/"
    assert invitee.get("/")["Location"].startswith("/login/")  # not signed in yet
    assert get_user_model().objects.get(username="ike@example.org").is_active


def test_an_unknown_link_is_a_page_that_says_so():
    page = Client().get("/invitations/not-a-token/")
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_deactivation_asks_first_then_signs_them_out(lead, team, coordinator):
    victim = signed_in(coordinator)
    client = signed_in(lead)
    confirm = client.get(f"/teams/{team.pk}/members/{coordinator.pk}/deactivate/")
    assert confirm.status_code == 200
    assert "signed out at once" in confirm.content.decode()
    cancelled = client.post(
        f"/teams/{team.pk}/members/{coordinator.pk}/deactivate/", {"cancel": "yes"}
    )
    assert cancelled.status_code == 302
    coordinator.refresh_from_db()
    assert coordinator.is_active
    done = client.post(f"/teams/{team.pk}/members/{coordinator.pk}/deactivate/", {"confirm": "yes"})
    assert done.status_code == 302
    coordinator.refresh_from_db()
    assert not coordinator.is_active
    assert victim.get("/")["Location"].startswith("/login/")
    page = client.get(f"/teams/{team.pk}/").content.decode()
    assert "Deactivated" in page


def test_the_role_button_and_the_last_lead_refusal(lead, team, coordinator):
    client = signed_in(lead)
    answer = client.post(f"/teams/{team.pk}/members/{coordinator.pk}/role/", {"role": "clinician"})
    assert answer.status_code == 302
    assert CareTeamMembership.objects.get(user=coordinator).role == "clinician"
    refused = client.post(f"/teams/{team.pk}/lead/")
    assert refused.status_code == 400
    assert "only lead" in refused.content.decode()
    assert CareTeamMembership.objects.get(user=lead).is_lead
