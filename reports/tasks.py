"""Beat's refresh of the adherence report's monthly rollups: thin, no arguments."""

from __future__ import annotations

import logging

from celery import shared_task

from reports.rollups import rollups_refresh

logger = logging.getLogger(__name__)


@shared_task(name="reports.tasks.refresh_adherence_rollups", ignore_result=True)
def refresh_adherence_rollups() -> None:
    done = rollups_refresh()
    if done.skipped:
        logger.info("adherence rollups: another refresh is running")
        return
    logger.info(
        "adherence rollups refreshed months=%d teams=%d left=%d",
        len(done.rolled_up),
        len({team for team, _ in done.rolled_up}),
        done.left,
    )
