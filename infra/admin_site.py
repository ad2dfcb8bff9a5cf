"""The admin site: verified superusers (operations) only, its login limited like the token endpoint.

Coordinators and clinicians work in the workspace and the API; the admin shows every care
team's records, so a staff flag alone does not open it, nor does a password alone: the
session must have been verified by a second factor (``infra.second_factor``, the check
django-otp's ``OTPAdminSite`` makes). The admin's own login form takes the password and hands
over to the workspace's code page (or to setting up an authenticator app), which signs in.
Its login is rate-limited per client address with the token endpoint's rate
(``CAREFLOW_API_RATES["login"]``), on top of django-axes' per (username, address) lockout,
so spraying many usernames from one address is slowed too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from infra import second_factor
from infra.login import login_limited


class _PasswordThenCode(LoginView):
    """The admin's password form; a right password leads to the second factor, not in."""

    def form_valid(self, form: AdminAuthenticationForm) -> HttpResponse:
        second_factor.pending_begin(
            self.request, user=form.get_user(), next_url=self.get_success_url()
        )
        # The workspace's code page sends a user with no app yet on to setting one up.
        return redirect("workspace:login-code")


class CareflowAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_superuser):
            return False
        # Asked several times a request (each page and its context): one device query.
        if not hasattr(request, "_careflow_admin_verified"):
            request._careflow_admin_verified = second_factor.session_device(request) is not None  # noqa: SLF001 - a per-request memo on the request itself
        return request._careflow_admin_verified  # noqa: SLF001

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:  # noqa: ANN401
        if login_limited(request, "admin-login"):
            return HttpResponse(
                "Too many login attempts from this address: try again later.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        # Django's AdminSite.login, with a view that asks for the second factor.
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return _PasswordThenCode.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)
