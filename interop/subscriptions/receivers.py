"""The subscriptions' answers to the clinical record's events (episodes/signals.py).

Connected in ``SubscriptionsConfig.ready``; they run inside the writer's transaction, so the
event rows are written with the change or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interop.subscriptions.outbox import flag_event_record, task_events_record

if TYPE_CHECKING:
    from careflow.facts import Facts
    from episodes.models import Episode, RedFlag


def on_red_flag_raised(sender: Any, *, red_flag: RedFlag, **_: Any) -> None:  # noqa: ANN401, ARG001
    flag_event_record(red_flag=red_flag)


def on_episode_changed(sender: Any, *, episode: Episode, facts: Facts, **_: Any) -> None:  # noqa: ANN401, ARG001
    task_events_record(episode=episode, facts=facts)
