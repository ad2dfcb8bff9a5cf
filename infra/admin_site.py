"""The admin site: superusers (operations) only, its login limited like the token endpoint.

Coordinators and clinicians work in the workspace and the API; the admin shows every care
team's records, so a staff flag alone does not open it. Its login is
rate-limited per client address with the token endpoint's rate
(``CAREFLOW_API_RATES["login"]``), on top of django-axes' per (username, address) lockout,
so spraying many usernames from one address is slowed too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import is_ratelimited

from infra.client import ratelimit_ip_key


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


def login_limited(request: HttpRequest, group: str) -> bool:
    """A sign-in POST beyond the token endpoint's rate from this client address (counted).

    The admin's and the workspace's logins (``group`` keeps their counts apart), on top of
    django-axes' per (username, address) lockout: spraying many usernames from one
    address is slowed too.
    """
    return request.method == "POST" and is_ratelimited(
        request,
        group=group,
        key=ratelimit_ip_key,
        rate=settings.CAREFLOW_API_RATES["login"],
        method="POST",
        increment=True,
    )
