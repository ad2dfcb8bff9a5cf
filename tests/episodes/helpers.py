"""Steps on an episode the pathway tests take through the services, and a fresh read of it."""

from __future__ import annotations

from episodes import services
from episodes.models import Episode


def transition(episode, name, by, **data):
    return services.episode_transition(episode_id=episode.pk, name=name, by=by, data=data)


def refresh(episode) -> Episode:
    return Episode.objects.get(pk=episode.pk)
