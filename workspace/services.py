"""The workspace's one write of its own: an outreach note, in a transaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from careflow.states import TERMINAL_STATES, State
from episodes.models import Episode
from workspace.models import OutreachKind, OutreachNote

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 2000


@transaction.atomic
def outreach_note_add(
    *, episode_id: int, by: AbstractBaseUser, kind: str, note: str = ""
) -> OutreachNote:
    if kind not in OutreachKind.values:
        raise ValidationError({"kind": [f"One of {OutreachKind.values}."]})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [f"At most {NOTE_MAX_LENGTH} characters."]})
    episode = Episode.objects.select_for_update().get(pk=episode_id)
    if State(episode.state) in TERMINAL_STATES:
        raise ValidationError({"state": [f"The episode is {episode.state}: it takes no changes."]})
    row = OutreachNote.objects.create(episode=episode, kind=kind, note=note, by=by)
    logger.info("outreach note id=%s episode=%s kind=%s", row.pk, episode.pk, kind)
    return row
