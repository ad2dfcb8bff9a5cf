"""The workspace's sign-in: Django's, limited per client address like the admin's and the API's.

Beyond ``CAREFLOW_API_RATES["login"]`` sign-in attempts a minute from one address, the page
answers 429 and says so, whichever usernames were tried (django-axes still locks a
username out after repeated failures from an address).

A user who must give a second factor (``api.mfa``) is not signed in by the password: the
page hands over to ``workspace.views.login_factor``, which asks for the code (or sets up
an authenticator app first) and signs in only then.

With a provider configured (``api.sso``) the page offers "Sign in with <provider>"
(``workspace.views.login_sso``); with ``CAREFLOW_LOCAL_PASSWORDS`` false it offers only that,
and a password POST is refused without being checked.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.mfa import second_factor_asked
from api.sso import sso_configured
from infra import second_factor
from infra.login import login_limited

PASSWORDS_OFF = gettext_lazy("Passwords are switched off here: sign in through your organisation.")


def ways_in() -> dict[str, Any]:
    """What the sign-in page offers: the provider's button, the password form, or both."""
    return {
        "sso_provider": settings.CAREFLOW_OIDC_PROVIDER_NAME if sso_configured() else None,
        "local_passwords": settings.CAREFLOW_LOCAL_PASSWORDS or not sso_configured(),
    }


def login_page(request: HttpRequest, *, sso_error: str, status: int) -> HttpResponse:
    """The sign-in page with the single sign-on's refusal in its error summary."""
    context = {
        "form": AuthenticationForm(request),
        "next": request.session.get("oidc_login_next") or "",
        "sso_error": sso_error,
        **ways_in(),
    }
    return render(request, "workspace/login.html", context, status=status)


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **ways_in()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not ways_in()["local_passwords"]:
            context = self.get_context_data(limited=PASSWORDS_OFF)
            return self.render_to_response(context, status=403)
        if login_limited(request, "workspace-login"):
            context = self.get_context_data(
                limited=_("Too many sign-in attempts from this address: try again in a minute.")
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not second_factor_asked(user):
            return super().form_valid(form)
        second_factor.pending_begin(self.request, user=user, next_url=self.get_success_url())
        if second_factor.has_device(user):
            return redirect("workspace:login-code")
        return redirect("workspace:login-enrol")
