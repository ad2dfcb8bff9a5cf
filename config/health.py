"""GET /healthz: is this process able to serve? Database, Redis and a live Celery worker.

Load balancers and `make run` poll it, so every check is bounded to about a second and a
failure is reported as data (503 + which check failed), never as a stack trace. Public
callers see only ``ok`` (and the worker count) per check; why a check failed (addresses,
exception text) goes to the log and to a logged-in superuser.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery_app import app as celery_app

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 1
_MAX_ERROR_LENGTH = 200

Check = dict[str, Any]


def _error(what: str, exc: BaseException) -> str:
    """One line naming what is down and why, without a traceback; also logged."""
    detail = " ".join(str(exc).split())[:_MAX_ERROR_LENGTH]
    line = f"{what} is down: {type(exc).__name__}: {detail}" if detail else f"{what} is down"
    logger.warning("healthz: %s", line)
    return line


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; reported, not raised
        return {"ok": False, "error": _error("database", exc)}
    return {"ok": True}


def check_redis() -> Check:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; reported, not raised
        return {"ok": False, "error": _error("redis", exc)}
    finally:
        client.close()
    return {"ok": True}


def check_celery() -> Check:
    """At least one worker answers a broadcast ping on the broker.

    Only called once Redis answered; the connection still retries at most once so that a
    broker lost in between cannot make kombu's default endless reconnect loop hang the view.
    """
    try:
        with celery_app.connection_for_write(
            url=settings.CELERY_BROKER_URL,
            connect_timeout=CHECK_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
            replies = celery_app.control.ping(timeout=CHECK_TIMEOUT_SECONDS, connection=conn)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; reported, not raised
        return {"ok": False, "error": _error("celery broker", exc)}
    workers = len(replies or [])
    if workers == 0:
        return {
            "ok": False,
            "workers": 0,
            "error": f"celery is down: no worker answered a ping within {CHECK_TIMEOUT_SECONDS} s",
        }
    return {"ok": True, "workers": workers}


def _public(checks: dict[str, Check]) -> dict[str, Check]:
    return {
        name: {k: v for k, v in check.items() if k != "error"} for name, check in checks.items()
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Check] = {"database": check_database(), "redis": check_redis()}
    if checks["redis"]["ok"]:
        checks["celery"] = check_celery()
    else:
        # The broker is Redis: without it no worker can answer, and asking would only wait.
        checks["celery"] = {"ok": False, "workers": 0, "error": "celery is down: redis is down"}
    ok = all(check["ok"] for check in checks.values())
    user = getattr(request, "user", None)
    if not (user is not None and user.is_active and user.is_superuser):
        checks = _public(checks)
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks},
        status=200 if ok else 503,
    )
