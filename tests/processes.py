"""The real processes tests start, shared by every suite.

Their command lines (Celery workers, gunicorn, Prometheus), a free port for each, and how
to stop one.
"""

from __future__ import annotations

import socket
import subprocess
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


def gunicorn_argv(port: int, *, workers: int = 2) -> list[str]:
    """`gunicorn config.wsgi` as the Procfile runs it (gunicorn.conf.py read from the cwd)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--access-logfile=-",
    ]


def prometheus_argv(config: str, data: str, port: int) -> list[str]:
    """Debian's Prometheus (scripts/ensure_prometheus.sh) on this config, its own data."""
    return [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
