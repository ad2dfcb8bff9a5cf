"""API rate limits, read from ``settings.CAREFLOW_API_RATES`` when a request comes in.

DRF's own throttles copy their rates when the class is defined; reading them per request
lets operators (and tests) change a rate without a restart of the import machinery.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from infra.client import client_ip


class SettingsRateThrottle(SimpleRateThrottle):
    """Counters live in the cache, which fails open (infra/cache.py) when Redis is down."""

    scope = ""

    def get_rate(self) -> str | None:
        return settings.CAREFLOW_API_RATES.get(self.scope)

    def get_ident(self, request: Request) -> str:
        """The client's address as every limit reads it, never a client-sent header."""
        return client_ip(request)


class UserThrottle(SettingsRateThrottle):
    """Requests per authenticated user, wherever they come from."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:  # noqa: ANN401, ARG002
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonThrottle(SettingsRateThrottle):
    """Requests per address from clients that are not logged in."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:  # noqa: ANN401, ARG002
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottle(SettingsRateThrottle):
    """Token requests per address: slows password guessing before django-axes locks out."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str | None:  # noqa: ANN401, ARG002
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
