"""The admin site: superusers (operations) only, its login limited like the token endpoint.

Coordinators and clinicians work in the workspace and the API; the admin shows every care
team's records, so a staff flag alone does not open it. Its login is
rate-limited per client address with the token endpoint's rate
(``CAREFLOW_API_RATES["login"]``), on top of django-axes' per (username, address) lockout,
so spraying many usernames from one address is slowed too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from infra.login import login_limited


class CareflowAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:  # noqa: ANN401
        if login_limited(request, "admin-login"):
            return HttpResponse(
                "Too many login attempts from this address: try again later.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        return super().login(request, extra_context)
