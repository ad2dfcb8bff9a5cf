"""``/api/teams/``: a team lead manages their team's members (``teams.services``).

The same services and checks as the workspace's team pages: a team the user is not in is a
404, a member who is not one of its leads gets a 403; every change is audited
(``/api/teams/{id}/changes/``). Invitations are accepted in the browser, from the emailed
link (the workspace), never here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.fields import StrictCharField
from api.serializers.inputs import StrictInputSerializer
from api.views.openapi import errors, id_param
from episodes.models import CareTeamMembership, Role
from teams import selectors, services
from teams.models import Invitation, TeamAction, TeamChange

TEAM_ID = id_param("team_id")
USER_ID = id_param("user_id", "the member's user id")


def _refusals(call: Callable[[], Any]) -> Any:  # noqa: ANN401 - what the service returns
    """A service's refusal in the API's shape: a 403 keeps its sentence as ``detail``."""
    try:
        return call()
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from exc


class TeamOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MemberOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    is_lead = serializers.BooleanField()
    is_active = serializers.BooleanField()
    last_login = serializers.DateTimeField(allow_null=True)


def member_output(membership: CareTeamMembership) -> dict[str, Any]:
    user = membership.user
    return {
        "user_id": user.pk,
        "username": user.get_username(),
        "full_name": selectors.display_name(user),
        "role": membership.role,
        "is_lead": membership.is_lead,
        "is_active": user.is_active,
        "last_login": user.last_login,
    }


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(
        allow_null=True, help_text="When the email was handed to the mail server; null: not yet."
    )
    send_error = serializers.CharField(help_text="Why the email did not go; empty if it did.")


def invitation_output(invitation: Invitation) -> dict[str, Any]:
    return {
        field: getattr(invitation, field)
        for field in (
            "id",
            "email",
            "given_name",
            "family_name",
            "role",
            "created_at",
            "expires_at",
            "sent_at",
            "send_error",
        )
    }


class ChangeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    by = serializers.CharField(help_text="who made the change, as they were named then")
    action = serializers.ChoiceField(choices=TeamAction.choices)
    subject = serializers.CharField(help_text="to whom, as they were named then")
    subject_user_id = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


def change_output(change: TeamChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "at": change.at,
        "by": change.by_name,
        "action": change.action,
        "subject": change.subject_name,
        "subject_user_id": change.subject_id,
        "detail": change.detail,
    }


class TeamsLedApi(APIView):
    @extend_schema(
        operation_id="teams_led",
        responses={200: TeamOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        teams = selectors.teams_led_by(request.user)
        return Response([{"id": t.pk, "name": t.name} for t in teams])


class TeamMembersApi(APIView):
    @extend_schema(
        operation_id="teams_members_list",
        parameters=[TEAM_ID],
        responses={200: MemberOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = _refusals(lambda: selectors.team_get_for_lead(request.user, team_id))
        return Response([member_output(m) for m in selectors.team_members(team.pk)])


class TeamInvitationsApi(APIView):
    class InputSerializer(StrictInputSerializer):
        email = StrictCharField(max_length=254)
        given_name = StrictCharField(max_length=150)
        family_name = StrictCharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.choices, required=False)

        class Meta:
            ref_name = "TeamInvitationInput"

    @extend_schema(
        operation_id="teams_invitations_list",
        parameters=[TEAM_ID],
        responses={200: InvitationOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = _refusals(lambda: selectors.team_get_for_lead(request.user, team_id))
        return Response([invitation_output(i) for i in selectors.invitations_pending(team.pk)])

    @extend_schema(
        operation_id="teams_invitations_create",
        parameters=[TEAM_ID],
        request=InputSerializer,
        responses={201: InvitationOutputSerializer, **errors(400)},
        description="Invite an email address to the team as a coordinator (default) or a "
        "clinician. The link is emailed once the invitation is stored; it works once, for "
        "`CAREFLOW_INVITATION_DAYS` days. A newer invitation to the same address ends the "
        "older one. An address that already has an account is a 400.",
    )
    def post(self, request: Request, team_id: int) -> Response:
        _refusals(lambda: selectors.team_get_for_lead(request.user, team_id))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invitation = _refusals(
            lambda: services.invitation_create(
                team_id=team_id,
                by=request.user,
                email=data["email"],
                given_name=data["given_name"],
                family_name=data["family_name"],
                role=data.get("role", Role.COORDINATOR),
            )
        )
        return Response(invitation_output(invitation), status=status.HTTP_201_CREATED)


class TeamMemberApi(APIView):
    class InputSerializer(StrictInputSerializer):
        role = serializers.ChoiceField(choices=Role.choices)

        class Meta:
            ref_name = "TeamMemberRoleInput"

    @extend_schema(
        operation_id="teams_members_update",
        parameters=[TEAM_ID, USER_ID],
        request=InputSerializer,
        responses={200: MemberOutputSerializer, **errors(400)},
        description="Set the member's role in this team: `clinician` or `coordinator`. A "
        "member made a clinician without an authenticator app is signed out everywhere, so "
        "their next sign-in asks them to set one up.",
    )
    def patch(self, request: Request, team_id: int, user_id: int) -> Response:
        _refusals(lambda: selectors.team_get_for_lead(request.user, team_id))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = _refusals(
            lambda: services.member_role_set(
                team_id=team_id,
                user_id=user_id,
                role=serializer.validated_data["role"],
                by=request.user,
            )
        )
        return Response(member_output(membership))


class TeamMemberDeactivateApi(APIView):
    @extend_schema(
        operation_id="teams_members_deactivate",
        parameters=[TEAM_ID, USER_ID],
        request=None,
        responses={200: MemberOutputSerializer, **errors(400)},
        description="A leaver: the account is deactivated now, their sessions end and their "
        "API and OAuth tokens stop working. Refused (403) for someone who is also in a team "
        "you do not lead, and (400) for yourself.",
    )
    def post(self, request: Request, team_id: int, user_id: int) -> Response:
        membership = _refusals(
            lambda: services.member_deactivate(team_id=team_id, user_id=user_id, by=request.user)
        )
        return Response(member_output(membership))


class TeamLeadApi(APIView):
    @extend_schema(
        operation_id="teams_lead_step_down",
        parameters=[TEAM_ID],
        request=None,
        responses={200: MemberOutputSerializer, **errors(400)},
        description="Stop being a lead of this team (your own role only: an administrator "
        "appoints and removes leads). Refused (400) while you are its only active lead.",
    )
    def delete(self, request: Request, team_id: int) -> Response:
        membership = _refusals(
            lambda: services.team_lead_remove(
                team_id=team_id, user_id=request.user.pk, by=request.user
            )
        )
        return Response(member_output(membership))


class TeamChangesApi(APIView):
    @extend_schema(
        operation_id="teams_changes_list",
        parameters=[TEAM_ID],
        responses={200: ChangeOutputSerializer(many=True), **errors()},
        description="The team's newest 50 changes to its members, newest first.",
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = _refusals(lambda: selectors.team_get_for_lead(request.user, team_id))
        return Response([change_output(c) for c in selectors.team_changes(team.pk)])
