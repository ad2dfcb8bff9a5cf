"""A lead's changes to members: the clinician role, deactivation, the lead role; each audited."""

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from oauth2_provider.models import AccessToken, Application, RefreshToken

from episodes.models import CareTeamMembership
from teams import services
from teams.models import SignedInSession, TeamChange
from tests.factories import MembershipFactory, UserFactory


def role_of(user, team):
    return CareTeamMembership.objects.get(user=user, team=team).role


def test_a_lead_sets_and_unsets_the_clinician_role(lead, team, coordinator):
    services.member_role_set(team_id=team.pk, user_id=coordinator.pk, role="clinician", by=lead)
    assert role_of(coordinator, team) == "clinician"
    services.member_role_set(team_id=team.pk, user_id=coordinator.pk, role="coordinator", by=lead)
    assert role_of(coordinator, team) == "coordinator"
    changes = list(TeamChange.objects.order_by("id").values_list("action", "subject", "detail"))
    assert changes == [
        ("role_set", coordinator.pk, "coordinator to clinician"),
        ("role_set", coordinator.pk, "clinician to coordinator"),
    ]
    # The same role again changes nothing and writes no row.
    services.member_role_set(team_id=team.pk, user_id=coordinator.pk, role="coordinator", by=lead)
    assert TeamChange.objects.count() == 2


def test_an_unknown_role_is_refused(lead, team, coordinator):
    with pytest.raises(ValidationError):
        services.member_role_set(team_id=team.pk, user_id=coordinator.pk, role="admin", by=lead)
    assert role_of(coordinator, team) == "coordinator"


def test_made_a_clinician_without_an_app_is_signed_out_to_set_one_up(lead, team, coordinator):
    client = Client()
    client.force_login(coordinator)
    assert client.get("/").status_code == 200
    services.member_role_set(team_id=team.pk, user_id=coordinator.pk, role="clinician", by=lead)
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


def _signed_in_everywhere(user):
    client = Client()
    client.force_login(user)
    _, knox = AuthToken.objects.create(user=user)
    app = Application.objects.create(
        name="EHR",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        user=user,
    )
    access = AccessToken.objects.create(
        user=user,
        application=app,
        token="a" * 40,
        expires=timezone.now() + timezone.timedelta(hours=1),
        scope="system/*.read",
    )
    RefreshToken.objects.create(user=user, application=app, token="r" * 40, access_token=access)
    return client, knox


def test_deactivation_ends_sessions_and_tokens_at_once(lead, team, coordinator):
    client, knox = _signed_in_everywhere(coordinator)
    assert client.get("/").status_code == 200
    assert client.get("/api/queues/", HTTP_AUTHORIZATION=f"Token {knox}").status_code == 200
    session_key = client.session.session_key

    services.member_deactivate(team_id=team.pk, user_id=coordinator.pk, by=lead)

    coordinator.refresh_from_db()
    assert not coordinator.is_active
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not SignedInSession.objects.filter(user=coordinator).exists()
    assert not AuthToken.objects.filter(user=coordinator).exists()
    assert not AccessToken.objects.filter(user=coordinator).exists()
    assert not RefreshToken.objects.filter(user=coordinator).exists()
    assert client.get("/")["Location"].startswith("/login/")
    assert Client().get("/api/queues/", HTTP_AUTHORIZATION=f"Token {knox}").status_code == 401
    # Kept, listed as inactive: a user who touched a record is never deleted.
    assert CareTeamMembership.objects.filter(user=coordinator, team=team).exists()
    change = TeamChange.objects.get(action="deactivated")
    assert (change.by, change.subject, change.by_name) == (lead, coordinator, "Lena Lead")


def test_a_lead_does_not_deactivate_themselves(lead, team):
    with pytest.raises(ValidationError):
        services.member_deactivate(team_id=team.pk, user_id=lead.pk, by=lead)
    lead.refresh_from_db()
    assert lead.is_active


def test_never_another_teams_members(lead, team, other_team, other_coordinator, coordinator):
    for call in (
        lambda: services.member_deactivate(team_id=team.pk, user_id=other_coordinator.pk, by=lead),
        lambda: services.member_role_set(
            team_id=team.pk, user_id=other_coordinator.pk, role="clinician", by=lead
        ),
        lambda: services.member_deactivate(
            team_id=other_team.pk, user_id=other_coordinator.pk, by=lead
        ),
    ):
        with pytest.raises(Http404):
            call()
    other_coordinator.refresh_from_db()
    assert other_coordinator.is_active
    assert role_of(other_coordinator, other_team) == "coordinator"
    assert not TeamChange.objects.exists()


def test_a_coordinator_manages_nobody(team, coordinator, clinician):
    with pytest.raises(PermissionDenied):
        services.member_deactivate(team_id=team.pk, user_id=clinician.pk, by=coordinator)
    with pytest.raises(PermissionDenied):
        services.member_role_set(
            team_id=team.pk, user_id=clinician.pk, role="coordinator", by=coordinator
        )
    clinician.refresh_from_db()
    assert clinician.is_active


def test_someone_also_in_a_team_the_lead_does_not_lead_stays_active(lead, team, other_team):
    shared = UserFactory(username="shared")
    MembershipFactory(team=team, user=shared)
    MembershipFactory(team=other_team, user=shared)
    with pytest.raises(PermissionDenied, match="also a member of Team B"):
        services.member_deactivate(team_id=team.pk, user_id=shared.pk, by=lead)
    shared.refresh_from_db()
    assert shared.is_active
    # A lead of both teams may.
    MembershipFactory(team=other_team, user=lead, is_lead=True)
    services.member_deactivate(team_id=team.pk, user_id=shared.pk, by=lead)
    shared.refresh_from_db()
    assert not shared.is_active


def test_the_last_lead_cannot_step_down(lead, team, coordinator):
    with pytest.raises(ValidationError) as refused:
        services.team_lead_remove(team_id=team.pk, user_id=lead.pk, by=lead)
    assert refused.value.message_dict == {"is_lead": [services.LAST_LEAD]}
    assert CareTeamMembership.objects.get(user=lead).is_lead

    services.team_lead_appoint(team_id=team.pk, user_id=coordinator.pk, by=None)
    services.team_lead_remove(team_id=team.pk, user_id=lead.pk, by=lead)
    assert not CareTeamMembership.objects.get(user=lead).is_lead
    assert list(TeamChange.objects.order_by("id").values_list("action", "by_name")) == [
        ("lead_appointed", "manage.py team_lead"),
        ("lead_removed", "Lena Lead"),
    ]


def test_a_deactivated_lead_does_not_count_as_the_other_lead(lead, team, coordinator):
    services.team_lead_appoint(team_id=team.pk, user_id=coordinator.pk, by=None)
    coordinator.is_active = False
    coordinator.save()
    with pytest.raises(ValidationError):
        services.team_lead_remove(team_id=team.pk, user_id=lead.pk, by=lead)


def test_only_administrators_appoint_or_remove_leads(lead, team, coordinator, superuser):
    with pytest.raises(PermissionDenied):
        services.team_lead_appoint(team_id=team.pk, user_id=coordinator.pk, by=lead)
    services.team_lead_appoint(team_id=team.pk, user_id=coordinator.pk, by=superuser)
    with pytest.raises(PermissionDenied):
        services.team_lead_remove(team_id=team.pk, user_id=coordinator.pk, by=lead)
    # An administrator may remove even the last lead.
    services.team_lead_remove(team_id=team.pk, user_id=coordinator.pk, by=superuser)
    services.team_lead_remove(team_id=team.pk, user_id=lead.pk, by=superuser)
    assert not CareTeamMembership.objects.filter(team=team, is_lead=True).exists()


def test_the_command_appoints_a_lead(team, coordinator):
    from django.core.management import call_command  # noqa: PLC0415

    call_command("team_lead", "--team", team.name, "--user", coordinator.username)
    assert CareTeamMembership.objects.get(user=coordinator).is_lead
    call_command("team_lead", "--team", str(team.pk), "--user", coordinator.username, "--remove")
    assert not CareTeamMembership.objects.get(user=coordinator).is_lead
    assert TeamChange.objects.count() == 2


def test_leads_sign_in_with_a_second_factor(lead, coordinator):
    from api.mfa import second_factor_required  # noqa: PLC0415

    assert second_factor_required(lead)
    assert not second_factor_required(coordinator)


def test_audit_rows_are_append_only(lead, team, coordinator):
    from episodes.models import AppendOnlyError  # noqa: PLC0415

    services.member_role_set(team_id=team.pk, user_id=coordinator.pk, role="clinician", by=lead)
    change = TeamChange.objects.get()
    change.detail = "nothing happened"
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        change.delete()
