"""The workspace never answers a 500 to what a browser (or anyone) sends.

Digits that are not ASCII (``"²".isdigit()`` is true, ``int("²")`` fails) as an assignee,
an episode version, a page or a page size are refused or ignored, and change nothing.
"""

from __future__ import annotations

from episodes.models import Episode
from tests.clock import at_day
from tests.workspace.helpers import signed_in


def test_digits_that_are_not_ascii_change_nothing(coordinator, episode):
    client = signed_in(coordinator)
    with at_day(3):
        answers = [
            client.post(f"/episodes/{episode.pk}/assign/", {"assigned_to": "²"}),
            client.post(f"/episodes/{episode.pk}/assignee/", {"assigned_to": "٣"}),
            client.post(
                f"/episodes/{episode.pk}/dates/",
                {"version": "²", "symptom_onset-day": "1", "reason": "x"},
            ),
            client.get("/queues/unassigned/?page=²"),
            client.get("/queues/unassigned/?page_size=²"),
        ]
    assert [a.status_code for a in answers if a.status_code >= 500] == []
    unchanged = Episode.objects.get(pk=episode.pk)
    assert unchanged.assigned_to_id is None
    assert unchanged.symptom_onset == episode.symptom_onset
    assert unchanged.version == episode.version
