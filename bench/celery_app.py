"""The Careflow Celery app plus one no-op task: the raw per-message Celery baseline.

Bench workers start with ``celery -A bench.celery_app worker``: they run the real
reminder tasks and ``bench.noop`` alike.
"""

from __future__ import annotations

from config.celery_app import app

__all__ = ["app", "noop"]


@app.task(name="bench.noop", ignore_result=True)
def noop(index: int) -> int:
    """Nothing at all: what one Celery message costs end to end, and no more."""
    return index
