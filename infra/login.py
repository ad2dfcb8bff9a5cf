"""Login lockouts (django-axes) that grow: each one doubles the next, up to a day.

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

from infra.client import client_ip

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
