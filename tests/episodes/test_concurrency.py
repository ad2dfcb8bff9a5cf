"""Concurrent writes to one episode, over two real PostgreSQL connections."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction

from episodes import services
from episodes.models import Episode, Patient, TransitionLog
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


@pytest.mark.django_db(transaction=True)
def test_a_patient_correction_takes_the_episode_before_the_patient(patient, coordinator):
    """Every episode write locks the episode, then its patient; a correction waits its turn.

    Here a write holds the episode and has not yet reached the patient. The correction must
    wait for the episode without holding the patient: had it taken the patient first, the
    write would wait for it while it waits for the episode (PostgreSQL: deadlock detected).
    """
    episode = services.episode_create(
        patient=patient, by=coordinator, symptom_onset=patient_today(patient)
    )
    correction_started = threading.Event()

    def correct() -> None:
        try:
            correction_started.set()
            services.patient_update(
                patient_id=patient.pk, by=coordinator, fields={"language": "es"}
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool, transaction.atomic():
        Episode.objects.select_for_update(of=("self",)).get(pk=episode.pk)
        correction = pool.submit(correct)
        correction_started.wait()
        time.sleep(0.5)  # the correction's first lock is requested by now
        # The write goes on to the patient: free, since the correction waits for the episode.
        Patient.objects.select_for_update(nowait=True).get(pk=patient.pk)
    correction.result(timeout=10)
    assert Patient.objects.get(pk=patient.pk).language == "es"


@pytest.mark.django_db
def test_a_stale_state_is_refused_by_the_save_with_the_state_fields_found_once(episode):
    from django_fsm import ConcurrentTransition, FSMFieldMixin  # noqa: PLC0415

    # The state fields django-fsm would find by walking the model's fields, found once.
    fields = Episode._meta.fields  # noqa: SLF001 - Django's public _meta API
    walked = [f for f in fields if isinstance(f, FSMFieldMixin)]
    assert list(episode.state_fields) == walked
    assert [f.name for f in walked] == ["state"]
    stale = Episode.objects.get(pk=episode.pk)
    Episode.objects.filter(pk=episode.pk).update(state="closed")
    stale.assigned_to = None
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    fresh = Episode.objects.get(pk=episode.pk)
    fresh.save()  # read in its current state: saved
