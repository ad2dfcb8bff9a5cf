"""The generator writes what the services would: it cannot drift from careflow.

For a sample of generated episodes, the services' own recomputation (``_after_write``:
derived columns, then ``reminders_sync``) must change nothing.
"""

from __future__ import annotations

import pytest

from bench.datagen import generate
from episodes import services
from episodes.models import Episode
from notifications.models import Reminder

DERIVED = ("next_deadline", "next_deadline_rule", "reassessment_due_on", "urgent_since",
           "flag_urgent_since", "urgent_rank", "referral_made_at",
           "overdue_from", "due_soon_from", "reassessment_due_from")  # fmt: skip
REMINDER_FIELDS = ("milestone", "audience", "channel", "milestone_date", "due_at",
                   "next_attempt_at", "status", "status_reason")  # fmt: skip


def _reminders(episode_id: int) -> list[tuple]:
    return list(
        Reminder.objects.filter(episode_id=episode_id).order_by("id").values_list(*REMINDER_FIELDS)
    )


@pytest.mark.django_db
def test_generated_rows_equal_what_the_services_compute():
    summary = generate(200, seed=3)
    assert summary.episodes == 200
    assert summary.reminders >= 200 * 4
    assert len(summary.counts_by_state) >= 6  # spread over the pathway
    episodes = list(Episode.objects.select_related("patient").order_by("id"))
    assert len(episodes) == 200
    assert any(e.urgent_since for e in episodes)
    assert any(e.reassessment_due_on for e in episodes)
    for episode in episodes[::4]:
        before = {name: getattr(episode, name) for name in DERIVED}
        reminders_before = _reminders(episode.pk)
        services._after_write(episode)  # noqa: SLF001 - the recomputation every write runs
        episode.refresh_from_db()
        assert {name: getattr(episode, name) for name in DERIVED} == before, episode.pk
        assert _reminders(episode.pk) == reminders_before, episode.pk
