"""The derived columns the queues read, recomputed after every write, and its event."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from careflow.deadlines import REASSESSMENT, deadlines
from careflow.facts import Facts
from careflow.schedule import queue_moments
from careflow.states import TERMINAL_STATES, State
from careflow.urgency import urgent_rank
from episodes.models import Episode
from episodes.selectors import episode_facts, facts_refresh
from episodes.services.statements import update_changed
from episodes.signals import episode_changed


def after_write(episode: Episode, facts: Facts | None = None) -> None:
    """End a write: recompute the derived columns the queues read, save, resync reminders.

    The episode's one UPDATE of the write is this ``save``: the services change the
    episode in memory and leave saving to here. ``facts`` are the ones the write read
    after its lock and carried along (rows it added already in them); the episode's
    columns are taken again from memory (``facts_refresh``), so nothing is read twice.
    Without them (a write that needed no facts before), they are read here.
    """
    state = State(episode.state)
    facts = episode_facts(episode) if facts is None else facts_refresh(facts, episode)
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
        episode.flag_urgent_since = None
    reasons = [t for t in (episode.flag_urgent_since, episode.report_review_since) if t]
    episode.urgent_since = min(reasons) if reasons else None
    episode.urgent_rank = urgent_rank(facts) if reasons else 0
    # Only the columns this write changed (and ``updated_at``), one fixed statement, when
    # the episode was read by ``lock``; every column otherwise.
    update_changed(episode)
    # notifications resyncs the episode's reminders (a receiver, in this transaction),
    # from these facts: the write reads them once for guard, effects, columns and reminders.
    episode_changed.send(sender=Episode, episode=episode, facts=facts)
