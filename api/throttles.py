"""API rate limits, read from ``settings.CAREFLOW_API_RATES`` when a request comes in.

DRF's own throttles copy their rates when the class is defined; reading them per request
lets operators (and tests) change a rate without a restart of the import machinery.

Each limit counts requests in fixed windows of its period (``N/minute``: the clock's
minutes), one counter per client and window, so a request costs one round trip to Redis
(``INCR`` and ``EXPIRE`` pipelined, ``infra.cache.FailOpenRedisCache.hit``) instead of
DRF's ``GET`` and ``SET`` of a list of every request's time in the last period (two round
trips and a pickled list each way: 12 % of a queue page's samples under py-spy).
A client gets at most N requests in any window; across a window's edge, up to 2N within
one period. ``Retry-After`` is the time until the window ends, when the count starts again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import BaseCache
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

    def allow_request(self, request: Request, view: Any) -> bool:  # noqa: ANN401 - DRF's view
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        count = _hit(self.cache, f"{key}_{window}", self.duration)
        # None: the cache could not count (Redis down), and the limit fails open.
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window ends (DRF sends them as ``Retry-After``)."""
        return max(self.window_ends - self.now, 0.0)


def _hit(cache: BaseCache, key: str, timeout: int) -> int | None:
    """One more request under ``key``: the count so far in its window."""
    hit = getattr(cache, "hit", None)
    if hit is not None:  # the Redis cache: one round trip
        return hit(key, timeout)
    # Any other Django cache (the tests' local memory): add the key, or count on.
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired in between: the window's first request after all
        cache.add(key, 1, timeout)
        return 1


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
