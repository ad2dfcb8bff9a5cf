"""The checks and the lock every write of an episode starts with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection

from careflow.facts import BOOLEAN_FACTS
from careflow.states import (
    TERMINAL_STATES,
    State,
)
from episodes.models import (
    CareTeamMembership,
    Episode,
    Patient,
)
from episodes.services.errors import EpisodeClosedError, StaleVersionError
from infra.db import prepared_cursor

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


def validate_dates(*, symptom_onset: date, conservative_care_start: date, today: date) -> None:
    """The episode's two dates; each error carries a code the workspace words (its forms)."""
    errors: dict[str, list[ValidationError]] = {}
    if symptom_onset > today:
        errors["symptom_onset"] = [
            ValidationError("Symptom onset cannot be in the future.", code="future")
        ]
    if conservative_care_start > today:
        errors["conservative_care_start"] = [
            ValidationError("Conservative care cannot start in the future.", code="future")
        ]
    elif conservative_care_start < symptom_onset:
        errors["conservative_care_start"] = [
            ValidationError(
                "Conservative care cannot start before symptom onset.", code="before_onset"
            )
        ]
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
    """The episode with its patient, both rows locked until the write's transaction ends.

    What ``Episode.objects.select_for_update().select_related("patient").get(pk=…)``
    sends, written once as a prepared statement: every write starts here, and the ORM
    compiled that queryset again on each one. The rows become models with ``from_db``, as
    the ORM builds them.
    """
    sql, episode_names, patient_names = _lock_query()
    with prepared_cursor() as cursor:
        cursor.execute(sql, [episode_id])
        row = cursor.fetchone()
    if row is None:
        msg = f"No episode {episode_id}."
        raise Episode.DoesNotExist(msg)
    row = list(row)
    for index, field in _converted():  # JSON columns come as text: the field decodes them
        row[index] = field.from_db_value(row[index], None, connection)
    split = len(episode_names)
    episode = Episode.from_db(connection.alias, episode_names, row[:split])
    patient = Patient.from_db(connection.alias, patient_names, row[split:])
    Episode.patient.field.set_cached_value(episode, patient)
    return episode


@cache
def _converted() -> list[tuple[int, Any]]:
    """The lock's columns whose field converts the database's value (``from_db_value``)."""
    fields = [*Episode._meta.concrete_fields, *Patient._meta.concrete_fields]  # noqa: SLF001
    return [(i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]


@cache
def _lock_query() -> tuple[str, list[str], list[str]]:
    """The SELECT … FOR UPDATE of an episode and its patient; each one's field names."""
    quote = connection.ops.quote_name
    episodes = Episode._meta  # noqa: SLF001 - Django's public _meta API
    patients = Patient._meta  # noqa: SLF001
    columns = [f"e.{quote(f.column)}" for f in episodes.concrete_fields]
    columns += [f"p.{quote(f.column)}" for f in patients.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(episodes.db_table)} e"  # noqa: S608 - names, not data
        f" INNER JOIN {quote(patients.db_table)} p"
        f" ON e.{quote(episodes.get_field('patient').column)} = p.{quote(patients.pk.column)}"
        f" WHERE e.{quote(episodes.pk.column)} = %s FOR UPDATE"
    )
    return (
        sql,
        [f.attname for f in episodes.concrete_fields],
        [f.attname for f in patients.concrete_fields],
    )


def refuse_terminal(episode: Episode) -> None:
    if State(episode.state) in TERMINAL_STATES:
        msg = f"The episode is {episode.state}: it takes no changes."
        raise EpisodeClosedError(msg)
