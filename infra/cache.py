"""Django's Redis cache, failing open: Redis down slows nothing and breaks nothing.

The cache holds only rate-limit counters (DRF throttles, the check-in limit, the admin
login limit); no record lives there. When Redis cannot be reached each call answers as an
empty cache would (``get`` the default, ``add``/``set`` nothing stored, ``incr`` the
``ValueError`` of a missing key, which django-ratelimit treats as "no count") and logs a
warning, so the limits fail open and the request goes on to the database. Connection and
socket timeouts are short (``OPTIONS`` in settings) so a dead Redis costs milliseconds.
https://docs.djangoproject.com/en/5.2/topics/cache/#redis
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property
from redis.exceptions import RedisError

from infra.metrics import CACHE_FAIL_OPEN

logger = logging.getLogger(__name__)


def _down(operation: str, exc: Exception) -> None:
    CACHE_FAIL_OPEN.labels(operation).inc()
    logger.warning("cache unavailable, failing open: %s (%s)", operation, type(exc).__name__)


class FailOpenRedisCache(RedisCache):
    def add(
        self, key: str, value: object, timeout: object = DEFAULT_TIMEOUT, version: object = None
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except (RedisError, OSError) as exc:
            _down("add", exc)
            return False

    def get(self, key: str, default: object = None, version: object = None) -> Any:  # noqa: ANN401
        try:
            return super().get(key, default, version)
        except (RedisError, OSError) as exc:
            _down("get", exc)
            return default

    def set(
        self, key: str, value: object, timeout: object = DEFAULT_TIMEOUT, version: object = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except (RedisError, OSError) as exc:
            _down("set", exc)

    def incr(self, key: str, delta: int = 1, version: object = None) -> int:
        try:
            return super().incr(key, delta, version)
        except (RedisError, OSError) as exc:
            _down("incr", exc)
            msg = f"Key '{key}' not found"
            raise ValueError(msg) from exc

    @cached_property
    def _counter_client(self) -> Any:  # noqa: ANN401 - a redis.Redis
        """The writer's client, made once: Django's ``get_client`` builds one per call.

        Django keeps a cache object per thread; the client shares the connection pool.
        """
        return self._cache.get_client(write=True)

    def hit(self, key: str, timeout: int, version: object = None) -> int | None:
        """Count one more request under ``key`` (kept ``timeout`` seconds): the new count.

        ``INCR`` and ``EXPIRE`` in one pipeline, one round trip, where DRF's throttle does a
        ``GET`` and a ``SET`` of the client's whole request history per request.
        None when Redis is down: the limit fails open as the rest of this cache does.
        """
        key = self.make_and_validate_key(key, version=version)
        try:
            with self._counter_client.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, timeout)
                count, _ = pipe.execute()
        except (RedisError, OSError) as exc:
            _down("hit", exc)
            return None
        return int(count)

    def delete(self, key: str, version: object = None) -> bool:
        try:
            return super().delete(key, version)
        except (RedisError, OSError) as exc:
            _down("delete", exc)
            return False

    def get_many(self, keys: Any, version: object = None) -> dict[str, Any]:  # noqa: ANN401
        try:
            return super().get_many(keys, version)
        except (RedisError, OSError) as exc:
            _down("get_many", exc)
            return {}
