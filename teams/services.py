"""Every change a team lead (or a superuser) makes to a team's members, each audited.

Each write locks the team's row first (``team_get_for_lead(lock=True)``), so one team's
changes run one at a time and the last-lead rule reads a settled set of leads; each writes a
``TeamChange`` row in the same transaction. Permissions are checked here, whoever calls:
the workspace's pages, the API and the admin reach the same checks.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from episodes.models import CareTeam, CareTeamMembership, Role
from notifications.channels.base import PermanentSendError, TransientSendError
from notifications.channels.email import send_email
from teams import tokens
from teams.models import Invitation, SignedInSession, TeamAction, TeamChange
from teams.selectors import display_name, team_get_for_lead, team_member_get

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)

NAME_MAX = 150
LAST_LEAD = (
    "You are this team's only lead: an administrator must appoint another lead "
    "before you stop being one."
)
NOT_YOURSELF = "You cannot deactivate yourself: ask another lead or an administrator."
ADMINS_ONLY = "Only an administrator appoints team leads."


def _change(
    *,
    team: CareTeam,
    by: User | None,
    action: str,
    subject: User | None,
    subject_name: str,
    detail: str = "",
) -> TeamChange:
    return TeamChange.objects.create(
        team=team,
        by=by,
        by_name=display_name(by) if by is not None else "manage.py team_lead",
        action=action,
        subject=subject,
        subject_name=subject_name[:254],
        detail=detail[:200],
    )


# -- access: sessions and tokens ---------------------------------------------------------------


def session_record(*, user: User, session_key: str) -> None:
    """A sign-in's session, so that a deactivation can end it (``user_logged_in``)."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    SignedInSession.objects.filter(user_id=user.pk, created_at__lt=cutoff).delete()
    SignedInSession.objects.get_or_create(session_key=session_key, defaults={"user": user})


def session_forget(*, session_key: str) -> None:
    SignedInSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def user_access_end(*, user: User) -> None:
    """End every way ``user`` is signed in now: sessions, API tokens, OAuth tokens.

    Their next request, with any of them, is a stranger's.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(
        SignedInSession.objects.filter(user_id=user.pk).values_list("session_key", flat=True)
    )
    for key in keys:
        store(session_key=key).delete()
    SignedInSession.objects.filter(user_id=user.pk).delete()
    AuthToken.objects.filter(user_id=user.pk).delete()
    get_refresh_token_model().objects.filter(user_id=user.pk).delete()
    get_access_token_model().objects.filter(user_id=user.pk).delete()
    get_id_token_model().objects.filter(user_id=user.pk).delete()
    get_grant_model().objects.filter(user_id=user.pk).delete()
    logger.info("access ended user=%s sessions=%s", user.pk, len(keys))


def _second_factor_from_next_sign_in(user: User) -> None:
    """A role that signs in with a second factor, given to someone signed in without one.

    The policy is applied at sign-in (docs/decisions/0017): ending their sessions and
    tokens now makes the next sign-in ask for the code (or set an app up first).
    """
    if user.is_superuser or TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists():
        return
    user_access_end(user=user)


# -- invitations -----------------------------------------------------------------------------


def _invitation_fields(
    *, email: object, given_name: object, family_name: object, role: object
) -> tuple[str, str, str, str]:
    """The invitation's fields, cleaned; every problem at once, in form order."""
    errors: dict[str, list[str]] = {}
    names = []
    for field, value, what in (
        ("given_name", given_name, "given name"),
        ("family_name", family_name, "family name"),
    ):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            errors[field] = [f"Enter the person's {what}"]
        elif len(text) > NAME_MAX:
            errors[field] = [f"The {what} must be {NAME_MAX} characters or fewer"]
        names.append(text)
    address = email.strip().lower() if isinstance(email, str) else ""
    if not address:
        errors["email"] = ["Enter the person's email address"]
    else:
        try:
            validate_email(address)
        except ValidationError:
            errors["email"] = [
                "Enter an email address in the correct format, like name@example.org"
            ]
    if role not in Role.values:
        errors["role"] = ["Select the person's role"]
    if errors:
        raise ValidationError(errors)
    return address, names[0], names[1], str(role)


@transaction.atomic
def invitation_create(
    *, team_id: int, by: User, email: object, given_name: object, family_name: object, role: object
) -> Invitation:
    """Invite an email address to the team; the link goes by email once this commits.

    An address that already has an account is refused (its owner signs in with it; an
    administrator adds an existing account to a team). An earlier invitation to the same
    address ends: only the newest link works.
    """
    team = team_get_for_lead(by, team_id, lock=True)
    address, given, family, role = _invitation_fields(
        email=email, given_name=given_name, family_name=family_name, role=role
    )
    existing = (
        get_user_model()
        .objects.filter(Q(username__iexact=address) | Q(email__iexact=address))
        .first()
    )
    if existing is not None:
        member = CareTeamMembership.objects.filter(team=team, user=existing).exists()
        msg = (
            "This person is already a member of this team"
            if member
            else "An account with this email address already exists: ask an administrator "
            "to add it to this team"
        )
        raise ValidationError({"email": [msg]})
    now = timezone.now()
    Invitation.objects.filter(
        team=team, email=address, accepted_at__isnull=True, ended_at__isnull=True
    ).update(ended_at=now)
    invitation = Invitation.objects.create(
        team=team,
        email=address,
        given_name=given,
        family_name=family,
        role=role,
        nonce=secrets.token_urlsafe(32),
        invited_by=by,
        expires_at=now + timedelta(days=settings.CAREFLOW_INVITATION_DAYS),
    )
    _change(
        team=team,
        by=by,
        action=TeamAction.INVITED,
        subject=None,
        subject_name=f"{given} {family} <{address}>",
        detail=f"as {role}",
    )
    transaction.on_commit(lambda: invitation_send(invitation_id=invitation.pk))
    return invitation


def invitation_send(*, invitation_id: int) -> None:
    """Email the invitation's link; the row records when it went, or why it did not.

    Through the configured email backend, as reminders go (SMTP, or an ESP through Anymail:
    ``notifications.channels.email.send_email``). Run after the invitation commits, so a
    link is never sent for a row that was rolled back.
    """
    invitation = (
        Invitation.objects.select_related("team", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.accepted_at or invitation.ended_at:
        return
    context = {
        "invitation": invitation,
        "link": tokens.invitation_url(invitation),
        "inviter": display_name(invitation.invited_by),
        "expires": timezone.localtime(invitation.expires_at),
    }
    try:
        send_email(
            to=invitation.email,
            subject=render_to_string("teams/invitation_subject.txt", context).strip(),
            body=render_to_string("teams/invitation_email.txt", context),
            idempotency_key=f"invitation-{invitation.pk}",
        )
    except (PermanentSendError, TransientSendError) as exc:
        Invitation.objects.filter(pk=invitation.pk).update(send_error=str(exc)[:200])
        logger.warning("invitation not sent invitation=%s error=%s", invitation.pk, exc)
        return
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now(), send_error="")
    logger.info("invitation sent invitation=%s", invitation.pk)


INVALID_LINK = "This invitation link is not valid: check it was copied whole from the email."
USED_LINK = "This invitation has already been used: sign in with the password you chose."
ENDED_LINK = "A newer invitation was sent to this address: use the link in the newest email."
EXPIRED_LINK = "This invitation has expired: ask your team lead to invite you again."


def invitation_for_token(token: str, *, lock: bool = False) -> tuple[Invitation | None, str]:
    """The invitation a link names and, if it cannot be used, why not (else "")."""
    named = tokens.invitation_named(token)
    if named is None:
        return None, INVALID_LINK
    pk, nonce = named
    rows = Invitation.objects.select_for_update() if lock else Invitation.objects
    invitation = rows.select_related("team").filter(pk=pk).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        return None, INVALID_LINK
    if invitation.accepted_at is not None:
        return invitation, USED_LINK
    if invitation.ended_at is not None:
        return invitation, ENDED_LINK
    if invitation.expires_at <= timezone.now():
        return invitation, EXPIRED_LINK
    return invitation, ""


@transaction.atomic
def invitation_accept(*, token: str, password: object, password_again: object) -> User:
    """The invitee's account, made with the password they chose, in the invitation's team.

    Once: the row is locked and marked accepted in the same transaction, so a second use of
    the link (or two at once) is refused. Their username is the invited email address.
    """
    invitation, problem = invitation_for_token(token, lock=True)
    if problem or invitation is None:
        raise ValidationError({"token": [problem]})
    model = get_user_model()
    user = model(
        username=invitation.email,
        email=invitation.email,
        first_name=invitation.given_name,
        last_name=invitation.family_name,
    )
    errors: dict[str, list[str]] = {}
    if not isinstance(password, str) or not password:
        errors["password"] = ["Enter a password"]
    else:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
        if not errors and password_again != password:
            errors["password_again"] = ["Enter the same password again"]
    if errors:
        raise ValidationError(errors)
    if model.objects.filter(
        Q(username__iexact=invitation.email) | Q(email__iexact=invitation.email)
    ).exists():
        raise ValidationError(
            {"token": ["An account with this email address already exists: sign in with it."]}
        )
    user.set_password(password)
    user.save()
    CareTeamMembership.objects.create(team=invitation.team, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    _change(
        team=invitation.team,
        by=user,
        action=TeamAction.JOINED,
        subject=user,
        subject_name=display_name(user),
        detail=f"as {invitation.role}, invited by {display_name(invitation.invited_by)}",
    )
    return user


# -- members ----------------------------------------------------------------------------------


@transaction.atomic
def member_role_set(*, team_id: int, user_id: int, role: object, by: User) -> CareTeamMembership:
    """The member's role in this team: clinician or coordinator (this team's only)."""
    team = team_get_for_lead(by, team_id, lock=True)
    membership = team_member_get(team.pk, user_id)
    if role not in Role.values:
        raise ValidationError({"role": ["Select coordinator or clinician"]})
    if membership.role == role:
        return membership
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _change(
        team=team,
        by=by,
        action=TeamAction.ROLE_SET,
        subject=membership.user,
        subject_name=display_name(membership.user),
        detail=f"{before} to {role}",
    )
    if role == Role.CLINICIAN:
        _second_factor_from_next_sign_in(membership.user)
    return membership


@transaction.atomic
def member_deactivate(*, team_id: int, user_id: int, by: User) -> CareTeamMembership:
    """A leaver's account ends now: sessions, API and OAuth tokens end with it.

    The account is kept (a user who touched a record is never deleted) and stays listed,
    inactive. A lead may deactivate only someone whose every team they lead: an account in
    another team too is that team's as well (an administrator's decision).
    """
    team = team_get_for_lead(by, team_id, lock=True)
    membership = team_member_get(team.pk, user_id)
    user = membership.user
    if user.pk == by.pk:
        raise ValidationError({"user": [NOT_YOURSELF]})
    if not by.is_superuser:
        led = CareTeamMembership.objects.filter(user_id=by.pk, is_lead=True).values("team_id")
        elsewhere = (
            CareTeamMembership.objects.filter(user_id=user.pk)
            .exclude(team_id__in=led)
            .select_related("team")
            .first()
        )
        if elsewhere is not None:
            msg = (
                f"{display_name(user)} is also a member of {elsewhere.team.name}, which you do "
                "not lead: ask an administrator to deactivate them."
            )
            raise PermissionDenied(msg)
    if not user.is_active:
        return membership
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_access_end(user=user)
    _change(
        team=team,
        by=by,
        action=TeamAction.DEACTIVATED,
        subject=user,
        subject_name=display_name(user),
    )
    logger.info("member deactivated team=%s user=%s by=%s", team.pk, user.pk, by.pk)
    return membership


@transaction.atomic
def team_lead_appoint(*, team_id: int, user_id: int, by: User | None) -> CareTeamMembership:
    """Make a member a lead of the team: a superuser's (``by``) or the command's (None)."""
    if by is not None and not by.is_superuser:
        raise PermissionDenied(ADMINS_ONLY)
    team = CareTeam.objects.select_for_update().filter(pk=team_id).first()
    if team is None:
        raise ValidationError({"team": ["No such care team."]})
    membership = (
        CareTeamMembership.objects.filter(team=team, user_id=user_id).select_related("user").first()
    )
    if membership is None:
        raise ValidationError({"user": ["Not a member of this team: add them to it first."]})
    if not membership.user.is_active:
        raise ValidationError({"user": ["This account is deactivated."]})
    if membership.is_lead:
        return membership
    membership.is_lead = True
    membership.save(update_fields=["is_lead"])
    _change(
        team=team,
        by=by,
        action=TeamAction.LEAD_APPOINTED,
        subject=membership.user,
        subject_name=display_name(membership.user),
    )
    _second_factor_from_next_sign_in(membership.user)
    return membership


@transaction.atomic
def team_lead_remove(*, team_id: int, user_id: int, by: User | None) -> CareTeamMembership:
    """A lead no more: a superuser's or the command's decision, or a lead's own step down.

    A lead stepping down must leave another active lead behind, so the team is never left
    with nobody to run it by its own lead's hand.
    """
    administrator = by is None or by.is_superuser
    if not administrator and by.pk != user_id:
        raise PermissionDenied(ADMINS_ONLY)
    team = (
        CareTeam.objects.select_for_update().filter(pk=team_id).first()
        if administrator
        else team_get_for_lead(by, team_id, lock=True)
    )
    if team is None:
        raise ValidationError({"team": ["No such care team."]})
    membership = (
        CareTeamMembership.objects.filter(team=team, user_id=user_id).select_related("user").first()
    )
    if membership is None:
        raise ValidationError({"user": ["Not a member of this team."]})
    if not membership.is_lead:
        return membership
    if not administrator:
        others = (
            CareTeamMembership.objects.filter(team=team, is_lead=True, user__is_active=True)
            .exclude(user_id=user_id)
            .exists()
        )
        if not others:
            raise ValidationError({"is_lead": [LAST_LEAD]})
    membership.is_lead = False
    membership.save(update_fields=["is_lead"])
    _change(
        team=team,
        by=by,
        action=TeamAction.LEAD_REMOVED,
        subject=membership.user,
        subject_name=display_name(membership.user),
    )
    return membership
