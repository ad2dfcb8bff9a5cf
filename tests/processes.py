"""Command lines of the real processes tests start (workers), shared by every suite."""

from __future__ import annotations

import sys
from urllib.parse import quote


def celery_worker_argv(hostname: str) -> list[str]:
    """A solo-pool `celery -A config worker` that answers to this hostname only."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        f"--hostname={hostname}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]


def database_url_for_worker(settings_dict: dict) -> str:
    """DATABASE_URL of the database this test session uses (pytest-django's test_<name>).

    A Unix-socket server (the embedded one) is named by its socket directory as ``host``.
    """
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    url = f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"
    socket = settings_dict.get("OPTIONS", {}).get("host")
    return f"{url}?host={quote(socket, safe='/')}" if socket else url
