"""Builders the workspace's tests share: a team's worth of episodes, and the window's sizes."""

from __future__ import annotations

from episodes.models import Episode
from tests.factories import episode_for

SIZES = {
    "laptop": {"width": 1366, "height": 768},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}
GIVEN_NAMES = ("Ana", "Ben", "Cleo", "Dev", "Elif", "Femi", "Gus", "Hana", "Ines", "Jon")


def routine_episodes(team, by, n: int) -> list[Episode]:
    """``n`` episodes of conservative care, 10 to 10 + n days in, no red flag, by the services."""
    names = GIVEN_NAMES
    return [
        episode_for(team, by, days=10 + i, given_name=names[i % len(names)], radicular_pain=True)
        for i in range(n)
    ]
