"""A team lead's pages: the team's members, invitations and changes; and accepting an invitation.

Every write is a ``teams.services`` call, which checks again who may (the pages only offer
what a lead may do). Another team is a 404, a member who is not a lead gets a 403 saying who
may. Deactivation asks to confirm first. The invitation page needs no sign-in: its link is
the invitee's proof; it signs them in once the account is made, through the second factor
first where their role asks for one (``api.mfa``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from api.mfa import second_factor_asked
from episodes.models import Role
from infra import second_factor
from infra.login import login_limited
from teams import selectors, services
from teams.receivers import LEAD_SESSION_KEY
from workspace.views.common import signed_in

AUTH_BACKEND = "workspace.backends.SessionUserBackend"  # the password backend (settings)
ROLE_WORDS = {
    Role.COORDINATOR: gettext_lazy("Coordinator"),
    Role.CLINICIAN: gettext_lazy("Clinician"),
}
INVITE_FIELDS = ("given_name", "family_name", "email", "role")
INVITE_LABELS = {
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "email": gettext_lazy("Email address"),
    "role": gettext_lazy("Role"),
}


def _summary(exc: ValidationError, order: tuple[str, ...]) -> tuple[list[dict], dict]:
    """The error summary (in form order, each linking its field) and each field's errors."""
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    ranked = sorted(by_field, key=lambda f: order.index(f) if f in order else len(order))
    summary = [
        {"href": f"#{field}" if field in order else "", "text": message}
        for field in ranked
        for message in by_field[field]
    ]
    return summary, by_field


def _team_page(
    request: HttpRequest,
    team: Any,  # noqa: ANN401 - a CareTeam
    *,
    summary: list[dict] | None = None,
    status: int = 200,
) -> HttpResponse:
    members = selectors.team_members(team.pk)
    mine = next((m for m in members if m.user_id == request.user.pk), None)
    rows = [
        {
            "membership": m,
            "name": selectors.display_name(m.user),
            "role": ROLE_WORDS.get(m.role, m.role),
            "other_role": Role.COORDINATOR if m.role == Role.CLINICIAN else Role.CLINICIAN,
            "is_me": m.user_id == request.user.pk,
        }
        for m in members
    ]
    return render(
        request,
        "workspace/team.html",
        {
            "team": team,
            "rows": rows,
            "invitations": selectors.invitations_pending(team.pk),
            "changes": selectors.team_changes(team.pk),
            "i_lead": mine is not None and mine.is_lead,
            "summary": summary or [],
            "role_words": ROLE_WORDS,
        },
        status=status,
    )


def _refused(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return render(
        request,
        "workspace/team_refused.html",
        {"reason": str(exc) or selectors.NOT_A_LEAD},
        status=403,
    )


@signed_in
@require_GET
def teams_led(request: HttpRequest) -> HttpResponse:
    """The nav's "Your team": straight to it when the user leads one team."""
    teams = list(selectors.teams_led_by(request.user))
    if len(teams) == 1:
        return redirect("workspace:team", team_id=teams[0].pk)
    if not teams:
        return _refused(request, PermissionDenied(selectors.NOT_A_LEAD))
    return render(request, "workspace/teams_led.html", {"teams": teams})


@signed_in
@require_GET
def team(request: HttpRequest, team_id: int) -> HttpResponse:
    try:
        found = selectors.team_get_for_lead(request.user, team_id)
    except PermissionDenied as exc:
        return _refused(request, exc)
    return _team_page(request, found)


@signed_in
@require_http_methods(["GET", "POST"])
def team_invite(request: HttpRequest, team_id: int) -> HttpResponse:
    try:
        found = selectors.team_get_for_lead(request.user, team_id)
    except PermissionDenied as exc:
        return _refused(request, exc)
    values = {"role": Role.COORDINATOR}
    summary: list[dict] = []
    errors: dict = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in INVITE_FIELDS}
        try:
            invitation = services.invitation_create(team_id=found.pk, by=request.user, **values)
        except PermissionDenied as exc:
            return _refused(request, exc)
        except ValidationError as exc:
            summary, errors = _summary(exc, INVITE_FIELDS)
        else:
            messages.success(
                request,
                _("%(name)s is invited: the link is on its way to %(email)s.")
                % {
                    "name": f"{invitation.given_name} {invitation.family_name}",
                    "email": invitation.email,
                },
            )
            return redirect("workspace:team", team_id=found.pk)
    fields = [
        {
            "id": name,
            "name": name,
            "label": INVITE_LABELS[name],
            "value": values.get(name, ""),
            "errors": errors.get(name, []),
            "required": True,
            "kind": "radios" if name == "role" else "text",
            "choices": [(value, ROLE_WORDS[value]) for value in Role.values],
            "hint": _("Clinicians set up an authenticator app when they first sign in")
            if name == "role"
            else "",
            "described_by": f"{name}-hint" if name == "role" else "",
        }
        for name in INVITE_FIELDS
    ]
    return render(
        request,
        "workspace/team_invite.html",
        {"team": found, "fields": fields, "summary": summary},
        status=400 if summary else 200,
    )


@signed_in
@require_POST
def member_role(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    try:
        found = selectors.team_get_for_lead(request.user, team_id)
        membership = services.member_role_set(
            team_id=found.pk, user_id=user_id, role=request.POST.get("role", ""), by=request.user
        )
    except PermissionDenied as exc:
        return _refused(request, exc)
    except ValidationError as exc:
        return _team_page(request, found, summary=_summary(exc, ())[0], status=400)
    messages.success(
        request,
        _("%(name)s is now a %(role)s in this team.")
        % {
            "name": selectors.display_name(membership.user),
            "role": ROLE_WORDS[membership.role].lower(),
        },
    )
    return redirect("workspace:team", team_id=found.pk)


@signed_in
@require_http_methods(["GET", "POST"])
def member_deactivate(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    """Check and confirm (GET), then deactivate (POST with ``confirm``)."""
    try:
        found = selectors.team_get_for_lead(request.user, team_id)
    except PermissionDenied as exc:
        return _refused(request, exc)
    membership = selectors.team_member_get(found.pk, user_id)
    name = selectors.display_name(membership.user)
    summary: list[dict] = []
    if request.method == "POST":
        if request.POST.get("cancel") or request.POST.get("confirm") != "yes":
            return redirect("workspace:team", team_id=found.pk)
        try:
            services.member_deactivate(team_id=found.pk, user_id=user_id, by=request.user)
        except PermissionDenied as exc:
            return _refused(request, exc)
        except ValidationError as exc:
            summary = _summary(exc, ())[0]
        else:
            messages.success(
                request, _("%(name)s is deactivated and signed out everywhere.") % {"name": name}
            )
            return redirect("workspace:team", team_id=found.pk)
    return render(
        request,
        "workspace/team_deactivate.html",
        {"team": found, "membership": membership, "name": name, "summary": summary},
        status=400 if summary else 200,
    )


@signed_in
@require_POST
def lead_step_down(request: HttpRequest, team_id: int) -> HttpResponse:
    try:
        found = selectors.team_get_for_lead(request.user, team_id)
        services.team_lead_remove(team_id=found.pk, user_id=request.user.pk, by=request.user)
    except PermissionDenied as exc:
        return _refused(request, exc)
    except ValidationError as exc:
        return _team_page(request, found, summary=_summary(exc, ())[0], status=400)
    request.session[LEAD_SESSION_KEY] = selectors.is_team_lead(request.user)
    return redirect("workspace:board")


PASSWORD_FIELDS = ("password", "password_again")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: choose a password, and be signed in (after a second factor if asked)."""
    found, problem = services.invitation_for_token(token)
    if problem:
        return render(
            request,
            "workspace/invitation.html",
            {"problem": problem},
            status=404 if found is None else 410,
        )
    summary: list[dict] = []
    errors: dict = {}
    if request.method == "POST":
        if login_limited(request, "workspace-login"):
            summary = [{"text": _("Too many attempts from this address: try again in a minute.")}]
            return render(
                request,
                "workspace/invitation.html",
                {"invitation": found, "summary": summary, "errors": {}},
                status=429,
            )
        try:
            user = services.invitation_accept(
                token=token,
                password=request.POST.get("password", ""),
                password_again=request.POST.get("password_again", ""),
            )
        except ValidationError as exc:
            summary, errors = _summary(exc, PASSWORD_FIELDS)
            if "token" in errors:
                return render(
                    request,
                    "workspace/invitation.html",
                    {"problem": errors["token"][0]},
                    status=410,
                )
        else:
            user.backend = AUTH_BACKEND
            board = reverse("workspace:board")
            if second_factor_asked(user):
                second_factor.pending_begin(request, user=user, next_url=board)
                return redirect("workspace:login-enrol")
            auth_login(request, user, backend=AUTH_BACKEND)
            return redirect(board)
    return render(
        request,
        "workspace/invitation.html",
        {
            "invitation": found,
            "role": ROLE_WORDS.get(found.role, found.role),
            "summary": summary,
            "errors": errors,
        },
        status=400 if summary else 200,
    )
