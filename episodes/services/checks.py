"""The checks and the lock every write of an episode starts with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, DateField, DateTimeField, Field, Model, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from careflow.facts import BOOLEAN_FACTS
from careflow.states import (
    TERMINAL_STATES,
    State,
)
from episodes.models import (
    CareTeamMembership,
    Episode,
    ImagingStudy,
    RedFlag,
)
from episodes.selectors.queue_rows import json_rows
from episodes.services.errors import EpisodeClosedError, StaleVersionError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


def validate_dates(*, symptom_onset: date, conservative_care_start: date, today: date) -> None:
    errors: dict[str, list[str]] = {}
    if symptom_onset > today:
        errors["symptom_onset"] = ["Symptom onset cannot be in the future."]
    if conservative_care_start > today:
        errors["conservative_care_start"] = ["Conservative care cannot start in the future."]
    elif conservative_care_start < symptom_onset:
        errors["conservative_care_start"] = ["Conservative care cannot start before symptom onset."]
    if errors:
        raise ValidationError(errors)


def validate_fact_values(values: Mapping[str, Any]) -> dict[str, bool]:
    errors = {name: ["Unknown fact."] for name in values if name not in BOOLEAN_FACTS}
    errors.update(
        {
            name: ["Must be true or false."]
            for name, value in values.items()
            if name in BOOLEAN_FACTS and not isinstance(value, bool)
        }
    )
    if errors:
        raise ValidationError(errors)
    return dict(values)


def check_version(episode: Episode, version: int | None) -> None:
    if version is not None and version != episode.version:
        msg = (
            f"The episode changed since version {version}; it is now version {episode.version}."
            " Reload it and try again."
        )
        raise StaleVersionError(msg)


def check_assignee(team_id: int, user: User | None) -> None:
    """An episode is assigned to a member of its own care team (or to nobody)."""
    if user is None:
        return
    if not CareTeamMembership.objects.filter(team_id=team_id, user_id=user.pk).exists():
        raise ValidationError({"assigned_to": ["Not a member of the episode's care team."]})


def lock(episode_id: int) -> Episode:
    return Episode.objects.select_for_update().select_related("patient").get(pk=episode_id)


def _json_all_rows(model: type[Model]) -> Subquery:
    fields = model._meta.concrete_fields  # noqa: SLF001 - Django's public _meta API
    return json_rows(model.objects.all(), **{f.attname: f.attname for f in fields})


def _from_json(value: Any, field: Field) -> Any:  # noqa: ANN401 - a column's value
    """A column's value as the database driver would give it, from its JSON text."""
    if value is None:
        return None
    if isinstance(field, DateTimeField):
        moment = parse_datetime(value)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    if isinstance(field, DateField):
        return date.fromisoformat(value[:10])
    if isinstance(field, BooleanField):
        return bool(value)
    return value


def _prefetched(episode: Episode, name: str, model: type[Model], rows: Any, order: Any) -> None:  # noqa: ANN401 - JSON
    """Set ``episode.<name>.all()`` to ``rows`` as ``prefetch_related_objects`` would."""
    fields = model._meta.concrete_fields  # noqa: SLF001 - Django's public _meta API
    attnames = [f.attname for f in fields]
    found = sorted(
        (
            model.from_db(
                episode._state.db,  # noqa: SLF001 - Django's public _state API
                attnames,
                [_from_json(row[f.attname], f) for f in fields],
            )
            for row in rows or ()
        ),
        key=order,
    )
    queryset = getattr(episode, name).get_queryset()
    queryset._result_cache = found  # noqa: SLF001 - as Django's prefetch fills it
    queryset._prefetch_done = True  # noqa: SLF001
    episode._prefetched_objects_cache[name] = queryset  # noqa: SLF001


def lock_with_facts(episode_id: int) -> Episode:
    """``lock`` with the episode's red flags and imaging in the same statement (issue 16).

    A transition reads its facts under the lock: the rows come as two JSON subqueries of the
    locked ``SELECT`` and are set as if prefetched, two round trips and two compiled
    queries fewer than ``prefetch_related_objects``.
    """
    episode = (
        Episode.objects.select_for_update()
        .select_related("patient")
        .annotate(flag_rows=_json_all_rows(RedFlag), study_rows=_json_all_rows(ImagingStudy))
        .get(pk=episode_id)
    )
    if not hasattr(episode, "_prefetched_objects_cache"):
        episode._prefetched_objects_cache = {}  # noqa: SLF001
    _prefetched(episode, "red_flags", RedFlag, episode.flag_rows, lambda f: (f.raised_at, f.pk))
    _prefetched(
        episode, "imaging", ImagingStudy, episode.study_rows, lambda s: (s.performed_on, s.pk)
    )
    del episode.flag_rows, episode.study_rows
    return episode


def refuse_terminal(episode: Episode) -> None:
    if State(episode.state) in TERMINAL_STATES:
        msg = f"The episode is {episode.state}: it takes no changes."
        raise EpisodeClosedError(msg)
