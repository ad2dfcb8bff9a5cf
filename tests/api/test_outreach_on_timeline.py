"""A coordinator's outreach notes are on the episode's API timeline, in time order.

``GET /api/episodes/{id}/timeline/``: an ``outreach`` event per note (who, when, its kind
and note), among the episode's other events; another team's episode stays a 404 and its
notes are on no other timeline.
"""

from __future__ import annotations

from episodes import services
from tests.clients import url
from tests.clock import at_day
from workspace.services import outreach_note_add


def test_outreach_notes_are_timeline_events(as_user, coordinator, clinician, episode):
    with at_day(3):
        note = outreach_note_add(
            episode_id=episode.pk, by=coordinator, kind="message_left", note="voicemail"
        )
    with at_day(4):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    with at_day(5):
        response = as_user(clinician).get(url(f"episodes/{episode.pk}/timeline/"))
    assert response.status_code == 200
    events = response.json()
    outreach = [e for e in events if e["kind"] == "outreach"]
    assert outreach == [
        {
            "at": note.at.isoformat().replace("+00:00", "Z"),
            "kind": "outreach",
            "by": coordinator.username,
            "source": "user",
            "data": {"outreach": note.pk, "kind": "message_left", "note": "voicemail"},
        }
    ]
    kinds = [e["kind"] for e in events]
    assert kinds.index("outreach") < kinds.index("red_flag_raised")


def test_another_team_sees_neither_the_timeline_nor_its_notes(
    as_user, coordinator, other_coordinator, episode, other_episode
):
    with at_day(3):
        outreach_note_add(episode_id=other_episode.pk, by=other_coordinator, kind="no_answer")
        denied = as_user(coordinator).get(url(f"episodes/{other_episode.pk}/timeline/"))
        mine = as_user(coordinator).get(url(f"episodes/{episode.pk}/timeline/"))
        theirs = as_user(other_coordinator).get(url(f"episodes/{other_episode.pk}/timeline/"))
    assert denied.status_code == 404
    assert "outreach" not in [e["kind"] for e in mine.json()]
    assert [e["data"]["kind"] for e in theirs.json() if e["kind"] == "outreach"] == ["no_answer"]
