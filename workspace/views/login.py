"""The workspace's sign-in: Django's, limited per client address like the admin's and the API's.

Beyond ``CAREFLOW_API_RATES["login"]`` sign-in attempts a minute from one address, the page
answers 429 and says so, whichever usernames were tried (django-axes still locks a
username out after repeated failures from an address).

A user who must give a second factor (``api.mfa``) is not signed in by the password: the
page hands over to ``workspace.views.login_factor``, which asks for the code (or sets up
an authenticator app first) and signs in only then.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from api.mfa import second_factor_asked
from infra import second_factor
from infra.login import login_limited


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
