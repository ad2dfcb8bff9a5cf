"""Login lockouts (django-axes) that grow, and the per-address rate of sign-in attempts.

Each lockout of a (username, address) pair within a day doubles the next, from
``CAREFLOW_LOGIN_COOLOFF`` up to a day.

Counted from axes' ``AccessFailureLog`` (``AXES_ENABLE_ACCESS_FAILURE_LOG``), which keeps
failures after a lockout expires, so waiting out one lockout does not reset the growth.
Per pair, as the lockout itself is (``AXES_LOCKOUT_PARAMETERS``): an attacker elsewhere
cannot lengthen a colleague's lockout.
https://django-axes.readthedocs.io/en/latest/4_configuration.html
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from axes.helpers import get_client_username
from axes.models import AccessFailureLog
from django.conf import settings
from django.utils import timezone
from django_ratelimit.core import is_ratelimited

from infra.client import client_ip, ratelimit_ip_key

if TYPE_CHECKING:
    from django.http import HttpRequest

MAX_COOLOFF = timedelta(days=1)
WINDOW = timedelta(days=1)


def cooloff(request: HttpRequest | None = None) -> timedelta:
    """django-axes' AXES_COOLOFF_TIME callable."""
    base = settings.CAREFLOW_LOGIN_COOLOFF
    if request is None:
        return base
    username = get_client_username(request)
    failures = AccessFailureLog.objects.filter(
        username=username,
        ip_address=client_ip(request),
        attempt_time__gte=timezone.now() - WINDOW,
    ).count()
    lockouts = max(1, failures // settings.AXES_FAILURE_LIMIT)
    return min(base * 2 ** (lockouts - 1), MAX_COOLOFF)


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
