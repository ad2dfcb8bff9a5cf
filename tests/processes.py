"""Command lines of the real processes tests start (workers), shared by every suite."""

from __future__ import annotations

import sys


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
