"""A care team run by its leads: invitations, the audit of every change, who is signed in where.

The lead role itself is a column of the membership (``CareTeamMembership.is_lead``); the
writes are ``teams.services``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from episodes.models import AppendOnly, CareTeam, CareTeamMembership, Role


class Invitation(models.Model):
    """An email address asked to join a team; the link it is sent works once, until it expires.

    The link carries the row's id and ``nonce``, signed with the secret key
    (``teams.tokens``): the database alone cannot make one, and a new invitation to the same
    address ends the earlier one (``ended_at``).
    """

    team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    given_name = models.CharField(max_length=150)
    family_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    nonce = models.CharField(max_length=64)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # The email's outcome: when the mail server or ESP took it, or why not.
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=200, blank=True, default="")
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Replaced by a later invitation to the same address, or the address joined otherwise.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            # The team page's pending invitations; a new one ends the address's earlier one.
            models.Index(
                fields=["team", "email"],
                name="invitation_pending",
                condition=models.Q(accepted_at__isnull=True, ended_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"Invitation #{self.pk} to team {self.team_id}"


class TeamAction(models.TextChoices):
    INVITED = "invited", "Invited"
    JOINED = "joined", "Joined"
    ROLE_SET = "role_set", "Role changed"
    DEACTIVATED = "deactivated", "Deactivated"
    LEAD_APPOINTED = "lead_appointed", "Made a team lead"
    LEAD_REMOVED = "lead_removed", "No longer a team lead"


class TeamChange(AppendOnly, models.Model):
    """Append-only: who changed which member of which team, how, and when.

    Names are kept as they were (``by_name``, ``subject_name``), so a row still reads after
    an account changes; ``by`` is empty for a change made with ``manage.py team_lead``.
    """

    team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_name = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=TeamAction.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_name = models.CharField(max_length=254)
    detail = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes: ClassVar = [models.Index(fields=["team", "-at", "-id"], name="team_change_page")]

    def __str__(self) -> str:
        return f"{self.action} in team {self.team_id} at {self.at:%Y-%m-%d %H:%M}"


class SignedInSession(models.Model):
    """A session a user signed in with (``user_logged_in``): ended when they are deactivated.

    Django keeps no index of sessions by user; without one a deactivation would have to
    decode every session of every user to find theirs.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=True
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Session of user {self.user_id}"


class TeamLeadMembership(CareTeamMembership):
    """The admin's view of memberships, where a superuser appoints and removes team leads."""

    class Meta:
        proxy = True
        verbose_name = "team membership"
        verbose_name_plural = "team memberships (team leads)"
