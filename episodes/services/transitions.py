"""Transitions by name: version check, permission, guard with reasons, effects, log."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from careflow import rules
from careflow.deadlines import referral_deadline
from careflow.facts import Facts
from careflow.guards import evaluate, fusion_indications_of, required_referral_urgency
from careflow.states import (
    TRANSITIONS,
    State,
    TransitionName,
)
from episodes.models import (
    Closure,
    ClosureReason,
    Episode,
    EsiPlan,
    Referral,
    Source,
    SurgeryPlan,
    TransitionLog,
    Urgency,
    is_team_clinician,
)
from episodes.selectors import episode_facts, facts_refresh, patient_today
from episodes.selectors.prefetch import prefetch_rows
from episodes.services import derived
from episodes.services.checks import check_version, lock
from episodes.services.errors import (
    GuardFailedError,
    InvalidTransitionError,
    NotPermittedError,
    UnknownTransitionError,
)
from episodes.services.statements import insert

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


def _check_body(name: TransitionName, data: Mapping[str, Any]) -> dict[str, Any]:
    """Input checks of a transition's own body (400); guideline checks are the guards (422)."""
    errors: dict[str, list[str]] = {}
    body = dict(data)
    if name == TransitionName.CLOSE and body.get("reason") not in ClosureReason.values:
        errors["reason"] = [f"A closure reason is required: one of {ClosureReason.values}."]
    if name == TransitionName.DECLINE_SURGERY and not str(body.get("reason", "")).strip():
        errors["reason"] = ["Declining surgery needs a reason."]
    if name == TransitionName.REFER_TO_SPECIALIST and body.get("urgency", Urgency.ROUTINE) not in (
        Urgency.values
    ):
        errors["urgency"] = [f"One of {Urgency.values}."]
    if name == TransitionName.PLAN_SURGERY and "fusion_indication" in body:
        indications = fusion_indications_of(body["fusion_indication"])
        if not indications or not isinstance(body["fusion_indication"], str | list):
            errors["fusion_indication"] = ["One code or a list of codes."]
    if errors:
        raise ValidationError(errors)
    return body


@transaction.atomic
def episode_transition(
    *,
    episode_id: int,
    name: str,
    by: User | None,
    version: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> Episode:
    """Apply a transition by name: version check, permission, guard with reasons, log."""
    try:
        transition_name = TransitionName(name)
    except ValueError as exc:
        msg = f"No transition named {name!r}."
        raise UnknownTransitionError(msg) from exc
    episode = lock(episode_id)
    check_version(episode, version)
    spec = TRANSITIONS[transition_name]
    if State(episode.state) not in spec.sources:
        msg = f"{transition_name} is not allowed from {episode.state}."
        raise InvalidTransitionError(msg)
    # django-fsm's own has_transition_perm also re-runs the conditions; ask only about the
    # permission here, the guard is evaluated below with its reasons.
    meta = getattr(episode, transition_name.value)._django_fsm  # noqa: SLF001
    if by is not None and not meta.has_transition_perm(episode, episode.state, by):
        msg = f"{transition_name} is a clinical decision: only a clinician of the care team."
        raise NotPermittedError(msg)
    body = _check_body(transition_name, data or {})
    today = patient_today(episode.patient)
    # The write's one read of the facts. Its rows stay on the episode (prefetched): nothing
    # a transition does adds a red flag or a study, so the API's answer reads them there.
    prefetch_rows(episode, "red_flags", "imaging")
    facts = episode_facts(episode)
    if (
        transition_name == TransitionName.CLOSE
        and facts.has_active_red_flag
        and by is not None
        and not is_team_clinician(episode, by)
    ):
        msg = "An episode with an active red flag is closed only by a clinician of the care team."
        raise NotPermittedError(msg)
    if transition_name == TransitionName.REFER_TO_SPECIALIST and "urgency" not in body:
        # No urgency sent: the least the rules ask for (an urgency that was sent is never
        # changed: a lower one is refused by the guard, citing its rule).
        required = required_referral_urgency(facts)
        body["urgency"] = required[0] if required else Urgency.ROUTINE
    facts = transition_apply(
        episode,
        name=transition_name,
        by=by,
        data=body,
        source=Source.USER,
        today=today,
        facts=facts,
    )
    derived.after_write(episode, facts)
    return episode


def transition_apply(
    episode: Episode,
    *,
    name: TransitionName,
    by: User | None,
    data: dict[str, Any],
    source: str,
    today: date,
    facts: Facts,
) -> Facts:
    """Guard, state change, effects and log of one transition, on the locked episode.

    ``facts`` are the write's (read once, after the lock); returned as the transition left
    them. The episode is changed in memory only: the caller ends the write with
    ``after_write``, whose save is the write's one UPDATE of the episode.
    """
    reasons = evaluate(name, facts, today, data)
    if reasons:
        msg = f"{name} is blocked by the pathway: " + "; ".join(
            f"{r.message} ({r.rule})" for r in reasons
        )
        raise GuardFailedError(msg, reasons)
    from_state = episode.state
    episode._guard_context = (facts, today, data)  # noqa: SLF001 - read by the FSM condition
    try:
        getattr(episode, name.value)()
    except TransitionNotAllowed as exc:  # the guard and the condition disagree: a bug
        raise InvalidTransitionError(str(exc)) from exc
    finally:
        del episode._guard_context  # noqa: SLF001
    _record_transition_effects(episode, name=name, data=data, today=today, facts=facts)
    if name == TransitionName.BEGIN_SURGICAL_REVIEW:
        episode.surgical_review_urgent = facts.has_active_red_flag
    now = timezone.now()
    episode.flag_urgent_since = _flag_urgent_after(episode, name, facts)
    episode.state_changed_at = now
    episode.version += 1
    # The log's and the decision's rows: fixed prepared INSERTs (``statements.insert``).
    insert(
        TransitionLog(
            episode=episode,
            transition=name.value,
            from_state=from_state,
            to_state=episode.state,
            by=by,
            source=source,
            body=_json_body(data),
            facts_snapshot=facts.snapshot(),
            evaluated_on=today,
            pathway_version=rules.PATHWAY_VERSION,
        )
    )
    logger.info(
        "episode transition id=%s %s: %s -> %s", episode.pk, name, from_state, episode.state
    )
    # The effects changed columns only (a referral's date, surgical urgency): in memory.
    return facts_refresh(facts, episode)


def _flag_urgent_after(episode: Episode, name: TransitionName, facts: Facts) -> datetime | None:
    """Whether a red flag keeps the episode in the urgent queue after a transition.

    PATHWAY.md "Red flags": a red flag is "acted on" when the episode leaves urgent
    escalation, or, for a flag raised in a later state, at the next transition. Escalating
    puts it (or keeps it) in the queue; declining surgery with a flag still active hands
    the patient back to the referral stage, where a flag escalates, so it stays there too:
    urgency is never lowered without a clinician deciding. A patient's red-flag report
    keeps it there on its own until a clinician reviews it (``derived.after_write``).
    """
    if name == TransitionName.ESCALATE or (
        name == TransitionName.DECLINE_SURGERY and facts.has_active_red_flag
    ):
        return episode.flag_urgent_since or timezone.now()
    return None


def _json_body(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


def _record_transition_effects(
    episode: Episode, *, name: TransitionName, data: dict[str, Any], today: date, facts: Facts
) -> None:
    if name == TransitionName.SCHEDULE_ESI:
        insert(
            EsiPlan(
                episode=episode,
                guidance=data["guidance"],
                approach=data["approach"],
                patient_consented=data["patient_consented"],
            )
        )
    elif name == TransitionName.REFER_TO_SPECIALIST:
        due = referral_deadline(facts)
        insert(
            Referral(
                episode=episode,
                urgency=data["urgency"],
                reason=str(data.get("reason", "")),
                made_on=today,
                due_on=due.due if due else None,
                due_rule=due.rule if due else "",
                due_date_met=due is None or today <= due.due,
            )
        )
        episode.referral_made_on = today
        episode.referral_made_at = timezone.now()
    elif name == TransitionName.PLAN_SURGERY:
        insert(
            SurgeryPlan(
                episode=episode,
                procedure=data["procedure"],
                technique=data.get("technique") or "",
                fusion_indication=",".join(fusion_indications_of(data.get("fusion_indication"))),
            )
        )
    elif name == TransitionName.CLOSE:
        insert(Closure(episode=episode, reason=data["reason"], note=str(data.get("note", ""))))
