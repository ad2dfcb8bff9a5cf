"""Care-plan items: CC-3 / RFA-1 concerns become flags, never refusals."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from careflow import rules
from careflow.careplan import CATALOGUE, plan_item_flags
from episodes.models import (
    CarePlanItem,
)
from episodes.services.checks import lock, refuse_terminal
from episodes.services.derived import after_write

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)

ENDS_BEFORE_START = "Cannot end before it started."


def _plan_flags(item: CarePlanItem) -> list[dict[str, str]]:
    flags = plan_item_flags(
        item.item,
        ended_on=item.ended_on,
        positive_medial_branch_block=item.positive_medial_branch_block,
    )
    return [f.as_dict() for f in flags]


@transaction.atomic
def care_plan_item_add(
    *,
    episode_id: int,
    by: User | None,
    item: str,
    started_on: date | None = None,
    ended_on: date | None = None,
    note: str = "",
    positive_medial_branch_block: bool = False,
) -> CarePlanItem:
    """Record a plan item; CC-3 / RFA-1 concerns become flags, never refusals."""
    if item not in CATALOGUE:
        raise ValidationError({"item": [f"Unknown care-plan item {item!r}."]})
    if started_on and ended_on and ended_on < started_on:
        raise ValidationError(
            {"ended_on": [ValidationError(ENDS_BEFORE_START, code="before_start")]}
        )
    episode = lock(episode_id)
    refuse_terminal(episode)
    plan_item = CarePlanItem(
        episode=episode,
        item=item,
        category=CATALOGUE[item].category.value,
        started_on=started_on,
        ended_on=ended_on,
        note=note,
        positive_medial_branch_block=positive_medial_branch_block,
        recorded_by=by,
    )
    plan_item.flags = _plan_flags(plan_item)
    plan_item.save()
    if CATALOGUE[item].rule == rules.CC_2:
        episode.education_recorded = True
    episode.version += 1
    after_write(episode)
    return plan_item


@transaction.atomic
def care_plan_item_update(
    *, item_id: int, episode_id: int, by: User | None, fields: Mapping[str, Any]
) -> CarePlanItem:
    allowed = {"started_on", "ended_on", "note", "positive_medial_branch_block"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    episode = lock(episode_id)
    refuse_terminal(episode)
    plan_item = CarePlanItem.objects.select_for_update().get(pk=item_id, episode_id=episode.pk)
    for name, value in fields.items():
        setattr(plan_item, name, value)
    if plan_item.started_on and plan_item.ended_on and plan_item.ended_on < plan_item.started_on:
        raise ValidationError(
            {"ended_on": [ValidationError(ENDS_BEFORE_START, code="before_start")]}
        )
    plan_item.flags = _plan_flags(plan_item)
    plan_item.save()
    episode.version += 1
    episode.save()
    logger.info("care plan item updated id=%s by=%s", plan_item.pk, getattr(by, "pk", None))
    return plan_item
