"""The checks and the lock every write of an episode starts with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from careflow.facts import BOOLEAN_FACTS
from careflow.states import (
    TERMINAL_STATES,
    State,
)
from episodes.models import (
    CareTeamMembership,
    Episode,
)
from episodes.selectors.prefetch import rows_of
from episodes.services.errors import EpisodeClosedError, StaleVersionError

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

    ``Episode.objects.select_for_update().select_related("patient").get(pk=…)`` as a fixed
    prepared statement (``rows_of``): every write starts here, and the ORM compiled that
    queryset again on each one. The assignee's row comes along, read but not locked: every
    write's EpisodeOfCare version names them (``interop.history``), which was a query of
    its own.
    """
    found = rows_of(
        Episode,
        where='t."id" = %s',
        args=[episode_id],
        related=("patient", "assigned_to"),
        for_update=True,
    )
    if not found:
        msg = f"No episode {episode_id}."
        raise Episode.DoesNotExist(msg)
    episode = found[0]
    episode.track_changes()  # the write's save then writes only the columns it changed
    return episode


def refuse_terminal(episode: Episode) -> None:
    if State(episode.state) in TERMINAL_STATES:
        msg = f"The episode is {episode.state}: it takes no changes."
        raise EpisodeClosedError(msg)
