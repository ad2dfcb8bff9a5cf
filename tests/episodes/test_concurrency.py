"""Two concurrent transitions on one episode, over two real PostgreSQL connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from episodes import services
from episodes.models import Episode, TransitionLog
from episodes.selectors import patient_today


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_exactly_one_wins(patient, coordinator):
    episode = services.episode_create(
        patient=patient, by=coordinator, symptom_onset=patient_today(patient)
    )
    version = episode.version
    start = threading.Barrier(2)

    def attempt(name: str, body: dict) -> str:
        start.wait()  # both threads hold their own connection and fire together
        try:
            services.episode_transition(
                episode_id=episode.pk, name=name, by=coordinator, version=version, data=body
            )
        except services.StaleVersionError:
            return "stale"
        else:
            return "ok"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(
            pool.map(
                attempt,
                ["resolve", "close"],
                [{"note": "better"}, {"reason": "withdrawn"}],
            )
        )
    assert outcomes == ["ok", "stale"]
    assert TransitionLog.objects.filter(episode=episode).count() == 1
    assert Episode.objects.get(pk=episode.pk).version == version + 1
