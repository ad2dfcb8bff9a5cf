"""The heartbeat names: beat's, the workers', and one per beat job (its schedule entry)."""

from __future__ import annotations

from django.conf import settings

BEAT = "beat"
WORKER = "worker"


def job_names() -> list[str]:
    """Every beat job, by its schedule entry's name (``CELERY_BEAT_SCHEDULE``)."""
    return sorted(settings.CELERY_BEAT_SCHEDULE)


def job_of_task(task_name: str) -> str | None:
    """The schedule entry that runs this task, if beat runs it."""
    for job, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if entry["task"] == task_name:
            return job
    return None
