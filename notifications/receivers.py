"""notifications' answers to the clinical record's events (episodes/signals.py).

Connected in ``NotificationsConfig.ready``; they run inside the writer's transaction, so
the reminder rows change with the episode or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifications.services import (
    red_flag_alert_schedule,
    red_flag_report_alert_schedule,
    reminders_sync,
)

if TYPE_CHECKING:
    from careflow.facts import Facts
    from episodes.models import Episode, RedFlag, RedFlagReport


def on_episode_changed(sender: Any, *, episode: Episode, facts: Facts, **_: Any) -> None:  # noqa: ANN401, ARG001
    reminders_sync(episode=episode, facts=facts)


def on_red_flag_raised(sender: Any, *, red_flag: RedFlag, **_: Any) -> None:  # noqa: ANN401, ARG001
    red_flag_alert_schedule(red_flag=red_flag)


def on_red_flag_reported(sender: Any, *, report: RedFlagReport, **_: Any) -> None:  # noqa: ANN401, ARG001
    red_flag_report_alert_schedule(report=report)
