"""Invitations: a lead invites by email; the link works once, until it expires; all audited."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from episodes.models import CareTeamMembership
from teams import services, tokens
from teams.models import Invitation, TeamChange
from tests.teams.helpers import emailed_token

PASSWORD = "a-long-new-passphrase-9"  # noqa: S105 - a test value


def invite(lead, team, *, email="nia@example.org", role="coordinator", capture=None):
    return services.invitation_create(
        team_id=team.pk,
        by=lead,
        email=email,
        given_name="Nia",
        family_name="Okafor",
        role=role,
    )


def test_an_invitation_is_emailed_after_it_commits(
    lead, team, django_capture_on_commit_callbacks, settings
):
    settings.CAREFLOW_PUBLIC_BASE_URL = "https://careflow.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(lead, team, email="  Nia@Example.org ")
    assert invitation.email == "nia@example.org"
    [message] = mail.outbox
    assert message.to == ["nia@example.org"]
    assert team.name in message.subject
    assert "https://careflow.example.org/invitations/" in message.body
    assert "Lena Lead" in message.body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert invitation.send_error == ""
    change = TeamChange.objects.get(team=team)
    assert (change.by, change.action, change.subject_name, change.detail) == (
        lead,
        "invited",
        "Nia Okafor <nia@example.org>",
        "as coordinator",
    )


def test_nothing_is_emailed_for_an_invitation_rolled_back(lead, team):
    # Without the commit (the test's transaction is never committed) no link goes out.
    invite(lead, team)
    assert mail.outbox == []


def test_a_mail_server_refusal_is_recorded_on_the_row(lead, team, settings, monkeypatch):
    import smtplib  # noqa: PLC0415

    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"nia@example.org": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    invitation = invite(lead, team)
    services.invitation_send(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    assert "SMTP recipient refused (550)" in invitation.send_error


def test_the_invitee_joins_once(lead, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(lead, team, role="clinician")
    token = emailed_token("nia@example.org")
    user = services.invitation_accept(token=token, password=PASSWORD, password_again=PASSWORD)
    assert user.username == "nia@example.org"
    assert user.get_full_name() == "Nia Okafor"
    assert user.check_password(PASSWORD)
    membership = CareTeamMembership.objects.get(user=user)
    assert (membership.team, membership.role, membership.is_lead) == (team, "clinician", False)
    joined = TeamChange.objects.get(action="joined")
    assert (joined.by, joined.subject) == (user, user)
    assert "invited by Lena Lead" in joined.detail

    with pytest.raises(ValidationError) as refused:
        services.invitation_accept(token=token, password=PASSWORD, password_again=PASSWORD)
    assert refused.value.message_dict == {"token": [services.USED_LINK]}
    assert get_user_model().objects.filter(username="nia@example.org").count() == 1


def test_an_expired_link_is_refused(lead, team, settings):
    settings.CAREFLOW_INVITATION_DAYS = 7
    invitation = invite(lead, team)
    token = tokens.invitation_token(invitation)
    later = timezone.now() + timedelta(days=7, seconds=1)
    with time_machine.travel(later), pytest.raises(ValidationError) as refused:
        services.invitation_accept(token=token, password=PASSWORD, password_again=PASSWORD)
    assert refused.value.message_dict == {"token": [services.EXPIRED_LINK]}
    assert not get_user_model().objects.filter(username="nia@example.org").exists()


def test_a_newer_invitation_ends_the_older_link(lead, team):
    first = invite(lead, team)
    second = invite(lead, team)
    first_problem = services.invitation_for_token(tokens.invitation_token(first))[1]
    assert first_problem == services.ENDED_LINK
    assert services.invitation_for_token(tokens.invitation_token(second))[1] == ""


@pytest.mark.parametrize(
    "kind",
    [
        "not a token",
        "empty",
        # Signed for something else (another salt), or naming a nonce the row does not hold.
        "other salt",
        "other nonce",
    ],
)
def test_a_tampered_or_foreign_link_is_refused(lead, team, kind):
    from django.core import signing  # noqa: PLC0415

    invitation = invite(lead, team)
    links = {
        "not a token": "not-a-token",
        "empty": "",
        "other salt": signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt="other"),
        "other nonce": signing.dumps({"i": invitation.pk, "n": "guess"}, salt=tokens.SALT),
    }
    found, problem = services.invitation_for_token(links[kind])
    assert (found, problem) == (None, services.INVALID_LINK)


def test_a_weak_or_mistyped_password_changes_nothing(lead, team):
    invitation = invite(lead, team)
    token = tokens.invitation_token(invitation)
    with pytest.raises(ValidationError) as weak:
        services.invitation_accept(token=token, password="12345678", password_again="12345678")
    assert "password" in weak.value.message_dict
    with pytest.raises(ValidationError) as mistyped:
        services.invitation_accept(token=token, password=PASSWORD, password_again=PASSWORD + "x")
    assert mistyped.value.message_dict == {"password_again": ["Enter the same password again"]}
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not get_user_model().objects.filter(username="nia@example.org").exists()


def test_invitation_input_is_checked_all_at_once(lead, team):
    with pytest.raises(ValidationError) as refused:
        services.invitation_create(
            team_id=team.pk,
            by=lead,
            email="not an address",
            given_name=" ",
            family_name=7,
            role="surgeon",
        )
    assert set(refused.value.message_dict) == {"given_name", "family_name", "email", "role"}
    assert not Invitation.objects.exists()
    assert not TeamChange.objects.exists()


def test_an_existing_account_is_not_invited(lead, team, coordinator, other_coordinator):
    with pytest.raises(ValidationError) as member:
        invite(lead, team, email=coordinator.email.upper())
    assert member.value.message_dict == {"email": ["This person is already a member of this team"]}
    with pytest.raises(ValidationError) as elsewhere:
        invite(lead, team, email=other_coordinator.email)
    assert "already exists" in elsewhere.value.message_dict["email"][0]


def test_only_a_lead_of_the_team_invites(team, coordinator, other_lead):
    with pytest.raises(PermissionDenied):
        invite(coordinator, team)
    with pytest.raises(Http404):
        invite(other_lead, team)
    assert not Invitation.objects.exists()
