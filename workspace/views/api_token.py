"""An API token for the signed-in user, from the workspace: how single sign-on users get one.

Such users have no password to send to ``POST /api/auth/token/``. The token is made only for
a session that passed the sign-in policy as it stands now (``api.mfa``): a user who must
give a second factor gets one only if this session was signed in with one, the provider's
(``amr``) or Careflow's own, so a role given after the sign-in is not a way around it. The
token is shown in this answer only (stored as a digest) and ends as every API token does.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from knox.models import AuthToken

from api.mfa import second_factor_required
from api.sso import session_second_factor


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    allowed = not second_factor_required(request.user) or session_second_factor(request)
    if request.method == "POST" and allowed:
        instance, token = AuthToken.objects.create(user=request.user)
        context = {"token": token, "expiry": instance.expiry}
        return render(request, "workspace/api_token.html", context)
    refusal = (
        None
        if allowed
        else _(
            "Your role needs a second factor, and this session was signed in without one: "
            "sign out, then sign in again with it to create a token."
        )
    )
    status = 403 if refusal and request.method == "POST" else 200
    return render(request, "workspace/api_token.html", {"refusal": refusal}, status=status)
