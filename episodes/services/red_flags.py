"""Red flags: raised by a clinician, a check-in or derived (RF-*), ruled out by a clinician."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careflow import rules
from careflow.facts import Facts
from careflow.redflags import DERIVED_SIGNS, Sign, derived_signs
from careflow.states import (
    ESCALATING_STATES,
    State,
    TransitionName,
)
from episodes.models import (
    Episode,
    RedFlag,
    RedFlagStatus,
    Source,
    is_team_clinician,
)
from episodes.selectors import episode_facts, facts_with_flag, patient_today
from episodes.services.checks import lock, refuse_terminal
from episodes.services.derived import after_write
from episodes.services.errors import NotPermittedError
from episodes.services.transitions import transition_apply
from episodes.signals import red_flag_raised

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


@transaction.atomic
def red_flag_raise(
    *,
    episode_id: int,
    sign: str,
    by: User | None,
    note: str = "",
    source: str = Source.USER,
) -> RedFlag:
    """Raise a red flag: the episode heads the urgent queue and escalates (RF-*, URG-1)."""
    if sign not in Sign.__members__.values():
        raise ValidationError({"sign": [f"Unknown red-flag sign {sign!r}."]})
    if Sign(sign) in DERIVED_SIGNS and source == Source.USER:
        raise ValidationError({"sign": [f"{sign} is derived by the system from the facts."]})
    episode = lock(episode_id)
    refuse_terminal(episode)
    today = patient_today(episode.patient)
    flag, facts = red_flag_raise_locked(
        episode, sign=sign, by=by, note=note, source=source, today=today, facts=None
    )
    episode.version += 1
    after_write(episode, facts)
    return flag


def red_flag_raise_locked(
    episode: Episode,
    *,
    sign: str,
    by: User | None,
    note: str,
    source: str,
    today: date,
    facts: Facts | None,
) -> tuple[RedFlag, Facts]:
    """Raise a flag on the locked episode, escalating it where the state escalates.

    ``facts``: the write's facts so far, or None when it has not read them yet (they are
    read here, before the flag is added). Returned with the flag in them, for the next
    step of the write. The episode is changed in memory only: every caller ends its write
    with ``after_write``, whose save is the write's one UPDATE of the episode.
    """
    if facts is None:
        facts = episode_facts(episode)
    flag = RedFlag.objects.create(
        episode=episode, sign=sign, note=note, source=source, raised_by=by, raised_on=today
    )
    facts = facts_with_flag(facts, flag)
    episode.flag_urgent_since = episode.flag_urgent_since or timezone.now()
    if State(episode.state) in ESCALATING_STATES:
        facts = transition_apply(
            episode,
            name=TransitionName.ESCALATE,
            by=None,
            data={"red_flag": flag.pk, "sign": sign},
            source=Source.SYSTEM,
            today=today,
            facts=facts,
        )
    # notifications schedules the care team's alert (a receiver, in this transaction).
    red_flag_raised.send(sender=RedFlag, red_flag=flag)
    logger.info("red flag raised episode=%s category=%s", episode.pk, flag.category)
    return flag, facts


def derive_red_flags(episode: Episode, *, today: date, facts: Facts | None) -> Facts | None:
    """RF-3 ``age_over_50_new_onset``: raised by the system, once per episode.

    ``facts`` as ``red_flag_raise_locked`` takes them; returned with any flag raised here.
    """
    values = episode.facts or {}
    wanted = derived_signs(
        birth_date=episode.patient.birth_date,
        symptom_onset=episode.symptom_onset,
        new_onset_pain=bool(values.get("new_onset_pain")),
    )
    if not wanted:  # the usual case: no need to look at the flags raised before
        return facts
    existing = set(episode.red_flags.values_list("sign", flat=True))
    for sign in sorted(wanted - existing):
        _, facts = red_flag_raise_locked(
            episode,
            sign=sign,
            by=None,
            note=f"derived ({rules.RF_3}): over 50 at onset with new-onset pain",
            source=Source.SYSTEM,
            today=today,
            facts=facts,
        )
    return facts


@transaction.atomic
def red_flag_rule_out(*, flag_id: int, episode_id: int, by: User | None, note: str = "") -> RedFlag:
    """Rule a red flag out: a clinical judgement, so a clinician of the team, with a note.

    Urgency is never lowered silently (PATHWAY.md): a coordinator (or the system) is
    refused (403), and a ruling-out without a note is invalid (400).
    """
    episode = lock(episode_id)
    refuse_terminal(episode)
    if by is None or not is_team_clinician(episode, by):
        msg = "Ruling a red flag out is a clinical judgement: only a clinician of the care team."
        raise NotPermittedError(msg)
    if not note.strip():
        raise ValidationError({"note": ["Ruling a red flag out needs a note."]})
    flag = RedFlag.objects.select_for_update().get(pk=flag_id, episode_id=episode.pk)
    if flag.status == RedFlagStatus.RULED_OUT:
        raise ValidationError({"status": ["This red flag is already ruled out."]})
    flag.status = RedFlagStatus.RULED_OUT
    flag.ruled_out_by = by
    flag.ruled_out_at = timezone.now()
    flag.ruled_out_note = note.strip()
    flag.save()
    episode.version += 1
    after_write(episode)
    return flag
