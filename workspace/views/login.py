"""The workspace's sign-in: Django's, limited per client address like the admin's and the API's.

Beyond ``CAREFLOW_API_RATES["login"]`` sign-in attempts a minute from one address, the page
answers 429 and says so, whichever usernames were tried (django-axes still locks a
username out after repeated failures from an address).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

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
