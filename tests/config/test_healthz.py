from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_url_with_db(db: int) -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{db}"))


def test_healthz_is_200_when_database_redis_and_a_worker_are_up(client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["celery"]["ok"] is True
    assert body["checks"]["celery"]["workers"] >= 1


def test_healthz_is_503_naming_redis_when_redis_is_unreachable(client, settings, superuser):
    unreachable = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.REDIS_URL = unreachable
    settings.CELERY_BROKER_URL = unreachable
    client.force_login(superuser)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"]["ok"] is False
    assert "redis" in body["checks"]["redis"]["error"]
    assert body["checks"]["celery"]["ok"] is False
    assert "Traceback" not in response.content.decode()


def test_healthz_is_503_naming_celery_when_no_worker_listens(client, settings, superuser):
    # No worker ever consumes Redis db 15: the worker fixture and `make run` use other dbs,
    # and kombu scopes broadcast pings by db number.
    settings.REDIS_URL = _redis_url_with_db(15)
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    client.force_login(superuser)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["celery"]["ok"] is False
    assert body["checks"]["celery"]["workers"] == 0
    assert "celery" in body["checks"]["celery"]["error"]


def test_healthz_needs_no_login(client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200


def test_public_healthz_says_which_check_failed_but_not_why(client, settings, caplog):
    port = _closed_port()
    unreachable = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = unreachable
    settings.CELERY_BROKER_URL = unreachable

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": {"ok": True},
        "redis": {"ok": False},
        "celery": {"ok": False, "workers": 0},
    }
    assert str(port) not in response.content.decode()
    # The reason is in the log, for operations.
    assert any(
        "redis is down" in r.getMessage() and str(port) in r.getMessage() for r in caplog.records
    )
