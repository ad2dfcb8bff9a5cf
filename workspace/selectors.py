"""What the workspace adds to the clinical record's reads: its outreach notes on the timeline.

The record sits below the workspace and never imports it; ``register`` (called by
``WorkspaceConfig.ready``) puts the notes into ``episodes.selectors``' timeline registry, so
the API's ``GET /api/episodes/{id}/timeline/`` and the episode page show them like any
other event. The FHIR facade reads them as ``Communication`` (``interop.selectors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from episodes.selectors import TimelineEvent, timeline_source_register
from episodes.selectors.prefetch import rows_of
from episodes.selectors.timeline import EPISODE
from workspace.models import OutreachNote

if TYPE_CHECKING:
    from episodes.models import Episode


def _outreach_events(episode: Episode) -> Iterable[TimelineEvent]:
    """A coordinator's call, message or letter: one query, whatever the number of notes."""
    notes = rows_of(
        OutreachNote, where=EPISODE, args=[episode.pk], related=("by",), order=("at", "id")
    )
    for note in notes:
        yield TimelineEvent(
            note.at,
            "outreach",
            note.pk,
            note.by.get_username(),
            "user",
            {"outreach": note.pk, "kind": note.kind, "note": note.note},
        )


def register() -> None:
    timeline_source_register(_outreach_events)
