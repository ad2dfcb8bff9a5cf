"""Reads of a team as its leads see it: access (404 / 403), members, invitations, changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from episodes.models import CareTeam, CareTeamMembership
from episodes.selectors import MAX_ID
from teams.models import Invitation, TeamChange

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

NOT_A_LEAD = "Only the team's leads manage its members: ask one of them or an administrator."
# The team page and the API show the newest changes; the rest stay in the table (and the admin).
CHANGES_SHOWN = 50


def team_get_for_lead(user: User, team_id: int, *, lock: bool = False) -> CareTeam:
    """The team, if ``user`` leads it (or is a superuser).

    Another team is a 404, as every team's records are to those outside it; a member who is
    not a lead gets a 403 that says who may. ``lock``: the team row is locked, so changes to
    one team's members run one at a time (the last-lead rule reads the others' leads).
    """
    if not 0 < team_id <= MAX_ID:
        raise Http404
    teams = CareTeam.objects.select_for_update() if lock else CareTeam.objects
    team = teams.filter(pk=team_id).first()
    if team is None:
        raise Http404
    if user.is_superuser:
        return team
    membership = CareTeamMembership.objects.filter(team_id=team_id, user_id=user.pk).first()
    if membership is None:
        raise Http404
    if not membership.is_lead:
        raise PermissionDenied(NOT_A_LEAD)
    return team


def teams_led_by(user: User) -> QuerySet[CareTeam]:
    """The teams ``user`` leads (a superuser: every team), by name."""
    if user.is_superuser:
        return CareTeam.objects.order_by("name")
    return CareTeam.objects.filter(
        memberships__user_id=user.pk, memberships__is_lead=True
    ).order_by("name")


def is_team_lead(user: User) -> bool:
    return CareTeamMembership.objects.filter(user_id=user.pk, is_lead=True).exists()


def team_members(team_id: int) -> list[CareTeamMembership]:
    """The team's memberships with their users (one query): active first, then by name."""
    return list(
        CareTeamMembership.objects.filter(team_id=team_id)
        .select_related("user")
        .order_by("-user__is_active", "user__first_name", "user__last_name", "user__username")
    )


def team_member_get(team_id: int, user_id: int) -> CareTeamMembership:
    """One member of the team; anyone else is a 404 (never another team's member)."""
    if not 0 < user_id <= MAX_ID:
        raise Http404
    membership = (
        CareTeamMembership.objects.filter(team_id=team_id, user_id=user_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def invitations_pending(team_id: int) -> list[Invitation]:
    """Invitations not yet accepted, ended or expired, newest first."""
    return list(
        Invitation.objects.filter(
            team_id=team_id,
            accepted_at__isnull=True,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("-created_at", "-id")
    )


def team_changes(team_id: int, limit: int = CHANGES_SHOWN) -> list[TeamChange]:
    """The team's newest changes (the ``team_change_page`` index, in its order)."""
    return list(TeamChange.objects.filter(team_id=team_id).order_by("-at", "-id")[:limit])


def display_name(user: User) -> str:
    """A person's full name; the username when there is none (as the workspace names people)."""
    full = user.get_full_name().strip()  # type: ignore[attr-defined]
    return full or user.get_username()
