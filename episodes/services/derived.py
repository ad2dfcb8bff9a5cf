"""The derived columns the queues read, recomputed after every write, and its event."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from careflow.deadlines import REASSESSMENT, deadlines
from careflow.schedule import queue_moments
from careflow.states import (
    TERMINAL_STATES,
    State,
)
from episodes.models import (
    Episode,
)
from episodes.selectors import episode_facts
from episodes.signals import episode_changed


def after_write(episode: Episode) -> None:
    """Recompute the derived columns the queues read, and resync the reminders."""
    state = State(episode.state)
    facts = episode_facts(episode)
    open_deadlines = deadlines(state, facts)
    first = open_deadlines[0] if open_deadlines else None
    reassessment = next((d for d in open_deadlines if d.kind == REASSESSMENT), None)
    episode.next_deadline = first.due if first else None
    episode.next_deadline_rule = first.rule if first else ""
    episode.reassessment_due_on = reassessment.due if reassessment else None
    moments = queue_moments(
        next_deadline=episode.next_deadline,
        reassessment_due_on=episode.reassessment_due_on,
        zone=ZoneInfo(episode.patient.timezone),
    )
    episode.overdue_from = moments.overdue_from
    episode.due_soon_from = moments.due_soon_from
    episode.reassessment_due_from = moments.reassessment_due_from
    if state in TERMINAL_STATES:
        episode.urgent_since = None
    episode.save()
    # notifications resyncs the episode's reminders (a receiver, in this transaction),
    # from the facts read here: the write reads them once for the columns and the reminders.
    episode_changed.send(sender=Episode, episode=episode, facts=facts)
