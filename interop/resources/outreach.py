"""A coordinator's outreach note (a call, a message left, a letter) as a Communication.

The note is the workspace's record (``workspace.models.OutreachNote``); its id here is
``outreach-<row id>``, apart from the delivery attempts' Communications (``<row id>``).
A call that found no one is ``not-done``: the patient was not reached.
"""

from __future__ import annotations

from typing import Final

from interop import codes
from interop.resources.common import Resource, concept, episode_ext, instant, meta, ref, who
from interop.terminology import display
from workspace.models import OutreachKind, OutreachNote

OUTREACH_ID_PREFIX: Final = "outreach-"

# How each kind reached the patient (HL7 v3 ParticipationMode); "other" names none.
_MEDIUM: Final = {
    OutreachKind.CALL_MADE: ("PHONE", "telephone"),
    OutreachKind.NO_ANSWER: ("PHONE", "telephone"),
    OutreachKind.MESSAGE_LEFT: ("PHONE", "telephone"),
    OutreachKind.LETTER_SENT: ("MAILWRIT", "mail"),
}


def outreach_id(note_id: int) -> str:
    return f"{OUTREACH_ID_PREFIX}{note_id}"


def outreach_resource(note: OutreachNote, *, patient_id: int) -> Resource:
    kind = OutreachKind(note.kind)
    reached = kind != OutreachKind.NO_ANSWER
    resource: Resource = {
        "resourceType": "Communication",
        "id": outreach_id(note.pk),
        "meta": meta(note.at),
        "extension": [episode_ext(note.episode_id)],
        "status": "completed" if reached else "not-done",
        "category": [concept(codes.OUTREACH, kind.value, display(codes.OUTREACH, kind.value))],
        "subject": ref("Patient", patient_id),
        "recipient": [ref("Patient", patient_id)],
        "sender": who(note.by, "user"),
    }
    if kind in _MEDIUM:
        mode, mode_text = _MEDIUM[kind]
        resource["medium"] = [concept(codes.PARTICIPATION_MODE, mode, mode_text)]
    if reached:
        resource["sent"] = instant(note.at)
    else:
        resource["statusReason"] = {"text": str(kind.label)}
    if note.note:
        resource["note"] = [{"text": note.note}]
    return resource
