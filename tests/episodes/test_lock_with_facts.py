"""The lock's red flags and imaging (JSON in the locked SELECT) equal the ORM's rows (issue 16)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from episodes import services
from episodes.models import Episode
from episodes.services.checks import lock_with_facts
from tests.api.conftest import at_day, new_episode, one_flag_ruled_out_one_active

pytestmark = pytest.mark.django_db(transaction=False)


def rows(manager) -> list[dict]:
    fields = manager.model._meta.fields  # noqa: SLF001 - Django's public _meta API
    return [
        {**model_to_dict(obj), **{f.attname: getattr(obj, f.attname) for f in fields}}
        for obj in manager.all()
    ]


def test_every_column_of_every_row_as_the_orm_reads_it(coordinator, clinician, patient):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    one_flag_ruled_out_one_active(episode, coordinator, clinician, day=3)
    with at_day(5):
        services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=date(2026, 10, 5),
            nerve_root_compression=True,
            level="L5-S1",
            clinically_correlated=True,
        )
        services.imaging_record(episode_id=episode.pk, by=None, performed_on=date(2026, 10, 4))
    expected = Episode.objects.prefetch_related("red_flags", "imaging").get(pk=episode.pk)
    with transaction.atomic():
        locked = lock_with_facts(episode.pk)
    assert len(rows(expected.red_flags)) == 2
    assert len(rows(expected.imaging)) == 2
    assert rows(locked.red_flags) == rows(expected.red_flags)
    assert rows(locked.imaging) == rows(expected.imaging)
    assert [type(v) for v in rows(locked.red_flags)[0].values()] == [
        type(v) for v in rows(expected.red_flags)[0].values()
    ]


def test_an_episode_without_rows(coordinator, patient):
    episode = new_episode(patient, coordinator)
    with transaction.atomic():
        locked = lock_with_facts(episode.pk)
    assert list(locked.red_flags.all()) == []
    assert list(locked.imaging.all()) == []
