"""Every write to an episode, each in one transaction.

Views, admin actions, tasks and check-ins all come through here, so the pathway's rules,
the audit trail and the reminders stay consistent whoever makes the change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from careflow import rules
from careflow.careplan import CATALOGUE, plan_item_flags
from careflow.checkin import Overall, Symptom, signs_for
from careflow.deadlines import REASSESSMENT, deadlines, referral_deadline
from careflow.facts import BOOLEAN_FACTS, Facts
from careflow.guards import Reason, evaluate, fusion_indications_of, required_referral_urgency
from careflow.redflags import DERIVED_SIGNS, Sign, derived_signs
from careflow.schedule import queue_moments
from careflow.states import (
    ESCALATING_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    State,
    TransitionName,
)
from episodes.models import (
    Assessment,
    CarePlanItem,
    CareTeam,
    CareTeamMembership,
    Closure,
    ClosureReason,
    CorrectedField,
    Correction,
    Episode,
    EsiPlan,
    ImagingStudy,
    Patient,
    RedFlag,
    RedFlagStatus,
    Referral,
    Source,
    SurgeryPlan,
    TransitionLog,
    Urgency,
    is_team_clinician,
)
from episodes.selectors import episode_facts, patient_today
from episodes.signals import episode_changed, red_flag_raised

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


# -- errors ---------------------------------------------------------------------------------


class TransitionError(Exception):
    """Base of the distinct ways a transition is refused; each changes nothing."""

    code = "transition_error"


class UnknownTransitionError(TransitionError):
    code = "not_found"


class InvalidTransitionError(TransitionError):
    """Not allowed from the episode's current state (409 invalid_transition)."""

    code = "invalid_transition"


class StaleVersionError(TransitionError):
    """The episode changed since the version the client sent (409 conflict)."""

    code = "conflict"


class NotPermittedError(TransitionError):
    """A clinician-only transition asked for by someone else (403)."""

    code = "permission_denied"


class EpisodeClosedError(TransitionError):
    """A write to a resolved or closed episode (409 episode_closed): it takes no changes."""

    code = "episode_closed"


class GuardFailedError(TransitionError):
    """A guideline rule blocks the transition (422 guard_failed); every reason listed."""

    code = "guard_failed"

    def __init__(self, message: str, reasons: list[Reason]) -> None:
        super().__init__(message)
        self.reasons = reasons


# -- patients -------------------------------------------------------------------------------


PATIENT_FIELDS = (
    "given_name",
    "family_name",
    "birth_date",
    "email",
    "phone",
    "timezone",
    "preferred_channel",
    "sms_consent",
    "opted_out",
    "language",
)


def _validate_patient(patient: Patient) -> None:
    patient.full_clean()
    if patient.preferred_channel == "sms" and not (patient.phone and patient.sms_consent):
        raise ValidationError(
            {"preferred_channel": ["SMS needs a phone number and the patient's SMS consent."]}
        )


@transaction.atomic
def patient_create(*, care_team: CareTeam, **fields: Any) -> Patient:
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    patient = Patient(care_team=care_team, **fields)
    _validate_patient(patient)
    patient.save()
    logger.info("patient created id=%s team=%s", patient.pk, care_team.pk)
    return patient


@transaction.atomic
def patient_update(
    *, patient_id: int, by: User | None = None, reason: str = "", **fields: Any
) -> Patient:
    """Correct a patient's details; a birth-date correction names a reason (PATHWAY.md).

    A corrected birth date or time zone changes what the pathway derives (RF-3's age, the
    patient's local dates): every open episode recomputes its derived flags, deadlines and
    reminders in the same transaction.
    """
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    old_birth_date = patient.birth_date
    birth_date_changes = "birth_date" in fields and fields["birth_date"] != old_birth_date
    if birth_date_changes and not reason.strip():
        raise ValidationError({"reason": ["A birth-date correction needs a reason."]})
    for name, value in fields.items():
        setattr(patient, name, value)
    _validate_patient(patient)
    patient.save()
    if birth_date_changes:
        Correction.objects.create(
            patient=patient,
            field=CorrectedField.BIRTH_DATE,
            old_value=old_birth_date,
            new_value=patient.birth_date,
            reason=reason.strip(),
            by=by,
        )
        logger.info("patient birth date corrected id=%s", patient.pk)
    open_states = [s.value for s in State if s not in TERMINAL_STATES]
    for episode_id in patient.episodes.filter(state__in=open_states).values_list("pk", flat=True):
        episode = _lock(episode_id)
        if birth_date_changes:
            episode.version += 1  # its facts changed: a client holding the old version is stale
        _derive_red_flags(episode, today=patient_today(episode.patient))
        _after_write(episode)
    return patient


# -- episodes -------------------------------------------------------------------------------


def _validate_dates(*, symptom_onset: date, conservative_care_start: date, today: date) -> None:
    errors: dict[str, list[str]] = {}
    if symptom_onset > today:
        errors["symptom_onset"] = ["Symptom onset cannot be in the future."]
    if conservative_care_start > today:
        errors["conservative_care_start"] = ["Conservative care cannot start in the future."]
    elif conservative_care_start < symptom_onset:
        errors["conservative_care_start"] = ["Conservative care cannot start before symptom onset."]
    if errors:
        raise ValidationError(errors)


def _validate_fact_values(values: Mapping[str, Any]) -> dict[str, bool]:
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


@transaction.atomic
def episode_create(
    *,
    patient: Patient,
    by: User | None,
    symptom_onset: date,
    conservative_care_start: date | None = None,
    care_team: CareTeam | None = None,
    assigned_to: User | None = None,
    **fact_values: Any,
) -> Episode:
    """Create an episode: record its first facts, derive red flags, schedule reminders."""
    today = patient_today(patient)
    start = conservative_care_start or today
    _validate_dates(symptom_onset=symptom_onset, conservative_care_start=start, today=today)
    values = _validate_fact_values(fact_values)
    team = care_team or patient.care_team
    _check_assignee(team.pk, assigned_to)
    episode = Episode.objects.create(
        patient=patient,
        care_team=team,
        assigned_to=assigned_to,
        symptom_onset=symptom_onset,
        conservative_care_start=start,
        enrolled_on=today,
    )
    if values:
        _record_assessment(episode, values=values, by=by, note="", source=Source.USER, today=today)
    _derive_red_flags(episode, today=today)
    _after_write(episode)
    logger.info("episode created id=%s state=%s", episode.pk, episode.state)
    return episode


DATE_FIELDS = (CorrectedField.SYMPTOM_ONSET, CorrectedField.CONSERVATIVE_CARE_START)


@transaction.atomic
def episode_update(
    *,
    episode_id: int,
    by: User | None,
    fields: Mapping[str, Any],
    reason: str = "",
    version: int | None = None,
) -> Episode:
    """Correct onset / care start, or set the assignee.

    A date correction names a ``reason`` and leaves a ``Correction`` row (old and new value,
    who, why) on the timeline; derived flags (RF-3), deadlines and unsent reminders are
    recomputed from it (PATHWAY.md "Facts change over time"). ``version``, when given, must
    be the episode's current one (409 conflict otherwise).
    """
    episode = _lock(episode_id)
    _check_version(episode, version)
    _refuse_terminal(episode)
    today = patient_today(episode.patient)
    allowed = {"symptom_onset", "conservative_care_start", "assigned_to"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    changed = [f for f in DATE_FIELDS if f in fields and fields[f] != getattr(episode, f)]
    if changed and not reason.strip():
        raise ValidationError({"reason": ["A date correction needs a reason."]})
    onset = fields.get("symptom_onset", episode.symptom_onset)
    start = fields.get("conservative_care_start", episode.conservative_care_start)
    _validate_dates(symptom_onset=onset, conservative_care_start=start, today=today)
    if "assigned_to" in fields:
        _check_assignee(episode.care_team_id, fields["assigned_to"])
    Correction.objects.bulk_create(
        Correction(
            patient_id=episode.patient_id,
            episode=episode,
            field=name,
            old_value=getattr(episode, name),
            new_value=fields[name],
            reason=reason.strip(),
            by=by,
        )
        for name in changed
    )
    for name, value in fields.items():
        setattr(episode, name, value)
    episode.version += 1
    episode.save()
    _derive_red_flags(episode, today=today)
    _after_write(episode)
    logger.info("episode updated id=%s by=%s", episode.pk, getattr(by, "pk", None))
    return episode


def _check_version(episode: Episode, version: int | None) -> None:
    if version is not None and version != episode.version:
        msg = (
            f"The episode changed since version {version}; it is now version {episode.version}."
            " Reload it and try again."
        )
        raise StaleVersionError(msg)


def _check_assignee(team_id: int, user: User | None) -> None:
    """An episode is assigned to a member of its own care team (or to nobody)."""
    if user is None:
        return
    if not CareTeamMembership.objects.filter(team_id=team_id, user_id=user.pk).exists():
        raise ValidationError({"assigned_to": ["Not a member of the episode's care team."]})


def _lock(episode_id: int) -> Episode:
    return Episode.objects.select_for_update().select_related("patient").get(pk=episode_id)


# -- facts ----------------------------------------------------------------------------------


# The facts whose first recording in a run starts a referral deadline, and their date column.
RUN_DATED_FACTS = {
    "disabling_pain": "disabling_pain_recorded_on",  # REF-2
    "neurological_deficit": "neurological_deficit_recorded_on",  # REF-3
}


def _record_assessment(
    episode: Episode,
    *,
    values: dict[str, bool],
    by: User | None,
    note: str,
    source: str,
    today: date,
) -> Assessment:
    assessment = Assessment.objects.create(
        episode=episode, values=values, note=note, source=source, recorded_by=by
    )
    current = dict(episode.facts or {})
    for name, value in values.items():
        if name in RUN_DATED_FACTS:
            # REF-2 / REF-3 run from the first recording of the current run of the finding:
            # recording it again while present keeps the date (the deadline never slides
            # later); recording it absent ends the run.
            column = RUN_DATED_FACTS[name]
            if not value:
                setattr(episode, column, None)
            elif not current.get(name) or getattr(episode, column) is None:
                setattr(episode, column, today)
        current[name] = value
    episode.facts = current
    episode.last_assessment_on = today
    episode.save()
    return assessment


@transaction.atomic
def assessment_record(
    *,
    episode_id: int,
    by: User | None,
    values: Mapping[str, Any],
    note: str = "",
    source: str = Source.USER,
) -> Assessment:
    """Append an assessment; its values become the current facts (REF-2/REF-3 dated)."""
    episode = _lock(episode_id)
    _refuse_terminal(episode)
    checked = _validate_fact_values(values)
    today = patient_today(episode.patient)
    assessment = _record_assessment(
        episode, values=checked, by=by, note=note, source=source, today=today
    )
    episode.version += 1
    episode.save()
    _derive_red_flags(episode, today=today)
    _after_write(episode)
    return assessment


def _refuse_terminal(episode: Episode) -> None:
    if State(episode.state) in TERMINAL_STATES:
        msg = f"The episode is {episode.state}: it takes no changes."
        raise EpisodeClosedError(msg)


# -- red flags ------------------------------------------------------------------------------


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
    episode = _lock(episode_id)
    _refuse_terminal(episode)
    today = patient_today(episode.patient)
    flag = _raise_flag(episode, sign=sign, by=by, note=note, source=source, today=today)
    episode.version += 1
    episode.save()
    _after_write(episode)
    return flag


def _raise_flag(
    episode: Episode, *, sign: str, by: User | None, note: str, source: str, today: date
) -> RedFlag:
    flag = RedFlag.objects.create(
        episode=episode, sign=sign, note=note, source=source, raised_by=by, raised_on=today
    )
    episode.urgent_since = episode.urgent_since or timezone.now()
    episode.save()
    if State(episode.state) in ESCALATING_STATES:
        _apply(
            episode,
            name=TransitionName.ESCALATE,
            by=None,
            data={"red_flag": flag.pk, "sign": sign},
            source=Source.SYSTEM,
            today=today,
            # Every caller of _raise_flag recomputes the derived columns once it is done.
            after_write=False,
        )
    # notifications schedules the care team's alert (a receiver, in this transaction).
    red_flag_raised.send(sender=RedFlag, red_flag=flag)
    logger.info("red flag raised episode=%s category=%s", episode.pk, flag.category)
    return flag


def _derive_red_flags(episode: Episode, *, today: date) -> None:
    """RF-3 ``age_over_50_new_onset``: raised by the system, once per episode."""
    facts = episode.facts or {}
    wanted = derived_signs(
        birth_date=episode.patient.birth_date,
        symptom_onset=episode.symptom_onset,
        new_onset_pain=bool(facts.get("new_onset_pain")),
    )
    existing = set(episode.red_flags.values_list("sign", flat=True))
    for sign in sorted(wanted - existing):
        _raise_flag(
            episode,
            sign=sign,
            by=None,
            note=f"derived ({rules.RF_3}): over 50 at onset with new-onset pain",
            source=Source.SYSTEM,
            today=today,
        )


@transaction.atomic
def red_flag_rule_out(*, flag_id: int, episode_id: int, by: User | None, note: str = "") -> RedFlag:
    """Rule a red flag out: a clinical judgement, so a clinician of the team, with a note.

    Urgency is never lowered silently (PATHWAY.md): a coordinator (or the system) is
    refused (403), and a ruling-out without a note is invalid (400).
    """
    episode = _lock(episode_id)
    _refuse_terminal(episode)
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
    episode.save()
    _after_write(episode)
    return flag


# -- imaging and care plan --------------------------------------------------------------------


@transaction.atomic
def imaging_record(
    *,
    episode_id: int,
    by: User | None,
    performed_on: date,
    modality: str = "mri_lumbar_without_contrast",
    nerve_root_compression: bool = False,
    level: str = "",
    clinically_correlated: bool = False,
) -> ImagingStudy:
    episode = _lock(episode_id)
    _refuse_terminal(episode)
    today = patient_today(episode.patient)
    if performed_on > today:
        raise ValidationError({"performed_on": ["Imaging cannot be in the future."]})
    study = ImagingStudy.objects.create(
        episode=episode,
        modality=modality,
        performed_on=performed_on,
        nerve_root_compression=nerve_root_compression,
        level=level,
        clinically_correlated=clinically_correlated,
        recorded_by=by,
    )
    episode.version += 1
    episode.save()
    _after_write(episode)
    return study


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
        raise ValidationError({"ended_on": ["Cannot end before it started."]})
    episode = _lock(episode_id)
    _refuse_terminal(episode)
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
    episode.save()
    _after_write(episode)
    return plan_item


@transaction.atomic
def care_plan_item_update(
    *, item_id: int, episode_id: int, by: User | None, fields: Mapping[str, Any]
) -> CarePlanItem:
    allowed = {"started_on", "ended_on", "note", "positive_medial_branch_block"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    episode = _lock(episode_id)
    _refuse_terminal(episode)
    plan_item = CarePlanItem.objects.select_for_update().get(pk=item_id, episode_id=episode.pk)
    for name, value in fields.items():
        setattr(plan_item, name, value)
    if plan_item.started_on and plan_item.ended_on and plan_item.ended_on < plan_item.started_on:
        raise ValidationError({"ended_on": ["Cannot end before it started."]})
    plan_item.flags = _plan_flags(plan_item)
    plan_item.save()
    episode.version += 1
    episode.save()
    logger.info("care plan item updated id=%s by=%s", plan_item.pk, getattr(by, "pk", None))
    return plan_item


# -- transitions ----------------------------------------------------------------------------


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
    episode = _lock(episode_id)
    _check_version(episode, version)
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
    _apply(episode, name=transition_name, by=by, data=body, source=Source.USER, today=today)
    return episode


def _apply(
    episode: Episode,
    *,
    name: TransitionName,
    by: User | None,
    data: dict[str, Any],
    source: str,
    today: date,
    after_write: bool = True,
) -> None:
    facts = episode_facts(episode)
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
    _record_transition_effects(episode, name=name, data=data, today=today)
    if name == TransitionName.BEGIN_SURGICAL_REVIEW:
        episode.surgical_review_urgent = facts.has_active_red_flag
    now = timezone.now()
    episode.urgent_since = _urgent_after(episode, name, facts)
    episode.state_changed_at = now
    episode.version += 1
    episode.save()
    TransitionLog.objects.create(
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
    if after_write:
        _after_write(episode)
    logger.info(
        "episode transition id=%s %s: %s -> %s", episode.pk, name, from_state, episode.state
    )


def _urgent_after(episode: Episode, name: TransitionName, facts: Facts) -> datetime | None:
    """Whether the episode heads the urgent queue after a transition (PATHWAY.md "Red flags").

    A red flag is "acted on" when the episode leaves urgent escalation, or, for a flag
    raised in a later state, at the next transition. Escalating puts it (or keeps it) in
    the queue; declining surgery with a flag still active hands the patient back to the
    referral stage, where a flag escalates, so it stays there too: urgency is never lowered
    without a clinician deciding.
    """
    if name == TransitionName.ESCALATE or (
        name == TransitionName.DECLINE_SURGERY and facts.has_active_red_flag
    ):
        return episode.urgent_since or timezone.now()
    return None


def _json_body(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


def _record_transition_effects(
    episode: Episode, *, name: TransitionName, data: dict[str, Any], today: date
) -> None:
    if name == TransitionName.SCHEDULE_ESI:
        EsiPlan.objects.create(
            episode=episode,
            guidance=data["guidance"],
            approach=data["approach"],
            patient_consented=data["patient_consented"],
        )
    elif name == TransitionName.REFER_TO_SPECIALIST:
        due = referral_deadline(episode_facts(episode))
        Referral.objects.create(
            episode=episode,
            urgency=data["urgency"],
            reason=str(data.get("reason", "")),
            made_on=today,
            due_on=due.due if due else None,
            due_rule=due.rule if due else "",
            due_date_met=due is None or today <= due.due,
        )
        episode.referral_made_on = today
    elif name == TransitionName.PLAN_SURGERY:
        SurgeryPlan.objects.create(
            episode=episode,
            procedure=data["procedure"],
            technique=data.get("technique") or "",
            fusion_indication=",".join(fusion_indications_of(data.get("fusion_indication"))),
        )
    elif name == TransitionName.CLOSE:
        Closure.objects.create(
            episode=episode, reason=data["reason"], note=str(data.get("note", ""))
        )


# -- derived columns and side effects -----------------------------------------------------


def _after_write(episode: Episode) -> None:
    """Recompute the derived columns the queues read, and resync the reminders."""
    state = State(episode.state)
    facts = episode_facts(episode)
    open_deadlines = deadlines(state, facts)
    first = open_deadlines[0] if open_deadlines else None
    reassessment = next((d for d in open_deadlines if d.kind == REASSESSMENT), None)
    episode.next_deadline = first.due if first else None
    episode.next_deadline_rule = first.rule if first else ""
    episode.reassessment_due_on = reassessment.due if reassessment else None
    moments = queue_moments(
        next_deadline=episode.next_deadline,
        reassessment_due_on=episode.reassessment_due_on,
        zone=ZoneInfo(episode.patient.timezone),
    )
    episode.overdue_from = moments.overdue_from
    episode.due_soon_from = moments.due_soon_from
    episode.reassessment_due_from = moments.reassessment_due_from
    if state in TERMINAL_STATES:
        episode.urgent_since = None
    episode.save()
    # notifications resyncs the episode's reminders (a receiver, in this transaction),
    # from the facts read here: the write reads them once for the columns and the reminders.
    episode_changed.send(sender=Episode, episode=episode, facts=facts)


# -- patient check-ins ----------------------------------------------------------------------


def _raise_reported_flags(episode: Episode, symptoms: list[str], *, note: str) -> list[RedFlag]:
    """Raise each red flag a patient reports that is not already active (PATHWAY.md)."""
    today = patient_today(episode.patient)
    active = set(
        episode.red_flags.filter(status=RedFlagStatus.ACTIVE).values_list("sign", flat=True)
    )
    return [
        _raise_flag(episode, sign=sign, by=None, note=note, source=Source.PATIENT, today=today)
        for sign in signs_for(symptoms)
        if sign not in active
    ]


def _unknown_symptoms(symptoms: list[str]) -> dict[str, list[str]]:
    unknown = [s for s in symptoms if s not in Symptom.__members__.values()]
    return {"symptoms": [f"Unknown symptoms: {unknown}."]} if unknown else {}


def checkin_answers_validate(*, symptoms: list[str], overall: str | None = None) -> None:
    """Refuse unknown symptoms (and, when given, an unknown overall answer) of a check-in."""
    errors = _unknown_symptoms(symptoms)
    if overall is not None and overall not in Overall.__members__.values():
        errors["overall"] = [f"One of {[o.value for o in Overall]}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def episode_checkin_red_flags_report(
    *, episode_id: int, reminder_id: int, symptoms: list[str]
) -> list[RedFlag]:
    """Record the red-flag symptoms of a check-in the patient has not finished.

    A reported red-flag symptom is never dropped (PATHWAY.md "Patient check-in answers"):
    whatever else the form lacks, the flag is raised with the patient as its source, the
    episode escalates and the care team is alerted; the page then asks for the rest.
    Returns the flags raised (none when each was already active). notifications'
    ``checkin_red_flags_report`` finds the episode from the reminder and calls this.
    """
    checkin_answers_validate(symptoms=symptoms)
    episode = _lock(episode_id)
    _refuse_terminal(episode)
    raised = _raise_reported_flags(
        episode,
        symptoms,
        note=f"reported by the patient on the check-in page of reminder #{reminder_id} "
        "(form not finished)",
    )
    if raised:
        episode.version += 1
        episode.save()
        _after_write(episode)
    logger.info("check-in red flags reported episode=%s raised=%s", episode.pk, len(raised))
    return raised


def episode_lock_open(episode_id: int) -> Episode:
    """Lock the episode for a write; a closed one is refused (``EpisodeClosedError``)."""
    episode = _lock(episode_id)
    _refuse_terminal(episode)
    return episode


def episode_checkin_apply(
    *,
    episode: Episode,
    checkin_id: int,
    overall: str,
    disabling_pain: bool,
    symptoms: list[str],
) -> None:
    """Let a recorded (or corrected) check-in's answers drive the episode, locked by the caller.

    A red-flag symptom raises the flag with the patient as its source (escalating per
    PATHWAY.md and alerting the care team); disabling pain is recorded as an assessment
    (REF-2); "resolved" asks the care team to confirm. A correction never lowers a flag
    already raised: only a clinician rules a red flag out. notifications'
    ``checkin_submit`` records the check-in row (its model) and calls this.
    """
    today = patient_today(episode.patient)
    _raise_reported_flags(
        episode, symptoms, note=f"reported by the patient in check-in #{checkin_id}"
    )
    if disabling_pain and not (episode.facts or {}).get("disabling_pain"):
        _record_assessment(
            episode,
            values={"disabling_pain": True},
            by=None,
            note=f"reported by the patient in check-in #{checkin_id}",
            source=Source.PATIENT,
            today=today,
        )
    if overall == Overall.RESOLVED:
        episode.resolution_reported_on = episode.resolution_reported_on or today
    episode.version += 1
    episode.save()
    _after_write(episode)
