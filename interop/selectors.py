"""The FHIR facade's reads: built on episodes.selectors, the same care-team scoping.

A single resource is located first (its row, its episode), so the audit trail can name the
episode and patient it is about even when the answer is a 404, and only then checked
against the user's care teams. Lists are one query each (plus fixed prefetches).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from careflow.deadlines import Milestone, next_actions
from careflow.states import NON_TERMINAL_STATES, State
from episodes.models import (
    Assessment,
    CarePlanItem,
    Episode,
    ImagingStudy,
    Patient,
    RedFlag,
    TransitionLog,
)
from episodes.selectors import (
    MAX_ID,
    care_plan_for,
    care_team_has_member,
    episode_facts,
    episode_list_for,
    patient_list_for,
    patient_today,
    team_ids_for,
)
from interop import codes
from interop import resources as fhir
from interop.paging import (
    TOTAL_LIMIT,
    Cursor,
    Page,
    expanded_rows,
    invalid_cursor,
    page_from,
    total_of,
)
from notifications.models import CheckIn, DeliveryAttempt, Reminder
from workspace.labels import NEXT_ACTIONS  # every next action careflow computes, labelled
from workspace.models import OutreachNote

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

Resource = dict[str, Any]


def _pk(value: str) -> int:
    """A row id from a FHIR id: a whole number in range, or 404."""
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
        raise Http404
    return int(value)


def _split(value: str) -> tuple[int, str]:
    """``<row id>-<code>`` -> (row id, code with underscores)."""
    match = re.fullmatch(r"(\d{1,19})-([a-z0-9-]{1,60})", value)
    if match is None:
        raise Http404
    return _pk(match[1]), match[2].replace("-", "_")


def may_see(user: User, team_id: int) -> bool:
    return bool(user.is_superuser or care_team_has_member(team_id=team_id, user_id=user.pk))


@dataclass(frozen=True, slots=True)
class Located:
    """A resource found by id, before the access check: whose it is, and how to render it."""

    patient_id: int
    episode_id: int | None
    team_id: int
    render: Callable[[], Resource]


def _first(queryset: QuerySet[Any]) -> Any:  # noqa: ANN401 - any model row
    row = queryset.first()
    if row is None:
        raise Http404
    return row


def _episodes() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient", "assigned_to")


def _locate_patient(value: str) -> Located:
    patient = _first(Patient.objects.filter(pk=_pk(value)))
    return Located(patient.pk, None, patient.care_team_id, lambda: fhir.patient_resource(patient))


def _locate_episode(value: str) -> Located:
    episode = _first(_episodes().filter(pk=_pk(value)))
    return Located(
        episode.patient_id, episode.pk, episode.care_team_id, lambda: fhir.episode_resource(episode)
    )


def _abated_at(episode: Episode) -> Any:  # noqa: ANN401 - an aware datetime or None
    log = episode.transitions.filter(transition="resolve").order_by("-at").first()
    return None if log is None else log.at


def _locate_condition(value: str) -> Located:
    episode = _first(_episodes().filter(pk=_pk(value)))
    return Located(
        episode.patient_id,
        episode.pk,
        episode.care_team_id,
        lambda: fhir.condition_resource(episode, abated=_abated_at(episode)),
    )


def _locate_careplan(value: str) -> Located:
    episode = _first(_episodes().prefetch_related("care_plan").filter(pk=_pk(value)))

    def render() -> Resource:
        today = patient_today(episode.patient)
        return fhir.careplan_resource(episode, care_plan_for(episode), today)

    return Located(episode.patient_id, episode.pk, episode.care_team_id, render)


def _locate_task(value: str) -> Located:
    episode_id, action = _split(value)
    episode = _first(_episodes().prefetch_related("red_flags", "imaging").filter(pk=episode_id))

    def render() -> Resource:
        today = patient_today(episode.patient)
        for found in episode_tasks(episode, today):
            if found.action == action:
                return fhir.task_resource(episode, found, today)
        if action in NEXT_ACTIONS:  # one careflow computes, no longer open
            return fhir.task_done_resource(episode, action)
        raise Http404

    return Located(episode.patient_id, episode.pk, episode.care_team_id, render)


def _located_row(row: Any, render: Callable[[], Resource]) -> Located:  # noqa: ANN401
    episode = row.episode
    return Located(episode.patient_id, episode.pk, episode.care_team_id, render)


def _locate_flag(value: str) -> Located:
    flag = _first(RedFlag.objects.select_related("episode", "raised_by").filter(pk=_pk(value)))
    return _located_row(flag, lambda: fhir.flag_resource(flag, patient_id=flag.episode.patient_id))


def _locate_observation(value: str) -> Located:
    assessment_id, fact = _split(value)
    row = _first(
        Assessment.objects.select_related("episode", "recorded_by").filter(pk=assessment_id)
    )

    def render() -> Resource:
        wanted = fhir.observation_id(row.pk, fact)
        for resource in fhir.observation_resources(row, patient_id=row.episode.patient_id):
            if resource["id"] == wanted:
                return resource
        raise Http404

    return _located_row(row, render)


def _locate_report(value: str) -> Located:
    study = _first(
        ImagingStudy.objects.select_related("episode", "recorded_by").filter(pk=_pk(value))
    )
    return _located_row(
        study, lambda: fhir.imaging_resource(study, patient_id=study.episode.patient_id)
    )


def _locate_request(value: str) -> Located:
    reminder = _first(Reminder.objects.select_related("episode").filter(pk=_pk(value)))
    episode = reminder.episode
    return _located_row(
        reminder,
        lambda: fhir.communication_request_resource(
            reminder, patient_id=episode.patient_id, team_id=episode.care_team_id
        ),
    )


def _locate_communication(value: str) -> Located:
    """A delivery attempt (``<row id>``) or a coordinator's outreach note (``outreach-<id>``)."""
    if value.startswith(fhir.OUTREACH_ID_PREFIX):
        note = _first(
            OutreachNote.objects.select_related("episode", "by").filter(
                pk=_pk(value.removeprefix(fhir.OUTREACH_ID_PREFIX))
            )
        )
        return _located_row(
            note, lambda: fhir.outreach_resource(note, patient_id=note.episode.patient_id)
        )
    attempt = _first(
        DeliveryAttempt.objects.select_related("reminder__episode").filter(pk=_pk(value))
    )
    reminder = attempt.reminder
    episode = reminder.episode
    return _located_row(
        reminder,
        lambda: fhir.communication_resource(
            attempt, reminder, patient_id=episode.patient_id, team_id=episode.care_team_id
        ),
    )


def _locate_response(value: str) -> Located:
    checkin = _first(CheckIn.objects.select_related("episode", "reminder").filter(pk=_pk(value)))
    return _located_row(
        checkin,
        lambda: fhir.questionnaire_response_resource(
            checkin, checkin.reminder, patient_id=checkin.episode.patient_id
        ),
    )


def _locate_provenance(value: str) -> Located:
    log = _first(TransitionLog.objects.select_related("episode", "by").filter(pk=_pk(value)))
    return _located_row(log, lambda: fhir.provenance_resource(log))


# Each resource type the facade reads by id, and how to find one.
LOCATORS: Final[dict[str, Callable[[str], Located]]] = {
    "Patient": _locate_patient,
    "EpisodeOfCare": _locate_episode,
    "Condition": _locate_condition,
    "Flag": _locate_flag,
    "Observation": _locate_observation,
    "DiagnosticReport": _locate_report,
    "CarePlan": _locate_careplan,
    "Task": _locate_task,
    "CommunicationRequest": _locate_request,
    "Communication": _locate_communication,
    "QuestionnaireResponse": _locate_response,
    "Provenance": _locate_provenance,
}


def locate(resource_type: str, resource_id: str) -> Located:
    """The resource of that type and id, whoever's it is; 404 if there is none."""
    locator = LOCATORS.get(resource_type)
    if locator is None:
        raise Http404
    return locator(resource_id)


# -- the episode and everything in it ---------------------------------------------------------


def episode_tasks(episode: Episode, today: date) -> list[Any]:
    """The episode's open next actions (careflow's), one Task each."""
    return next_actions(State(episode.state), episode_facts(episode), today)


@dataclass(frozen=True)
class Entry:
    """One resource of an episode's ``$everything`` before it is rendered.

    Its type and id (what the page's order and cursor need), the row it comes from, and
    what picks it out of that row: the fact of an assessment's Observation, the action of
    a Task, or whether a Communication is an outreach note.
    """

    resource_type: str
    id: str
    pk: int = 0
    part: Any = None


def episode_everything(episode: Episode) -> tuple[list[Entry], date]:
    """The episode's every resource as an entry, and the patient's today.

    A fixed number of queries of ids (and each assessment's facts), whatever the episode's
    size; only the page shown is rendered (``everything_resources``).
    """
    today = patient_today(episode.patient)
    pk, key = episode.pk, str(episode.pk)
    entries = [
        Entry("Patient", str(episode.patient_id), episode.patient_id),
        Entry("EpisodeOfCare", key, pk),
        Entry("Condition", key, pk),
        Entry("CarePlan", key, pk),
    ]
    of_episode = {"episode_id": pk}
    entries += [
        Entry("Flag", str(i), i)
        for i in RedFlag.objects.filter(**of_episode).values_list("pk", flat=True)
    ]
    for i, values in Assessment.objects.filter(**of_episode).values_list("pk", "values"):
        entries += [Entry("Observation", fhir.observation_id(i, f), i, f) for f in sorted(values)]
    entries += [
        Entry("DiagnosticReport", str(i), i)
        for i in ImagingStudy.objects.filter(**of_episode).values_list("pk", flat=True)
    ]
    entries += [
        Entry("Task", fhir.task_id(pk, action.action), pk, action)
        for action in next_actions(State(episode.state), episode_facts(episode), today)
    ]
    entries += [
        Entry("CommunicationRequest", str(i), i)
        for i in Reminder.objects.filter(**of_episode).values_list("pk", flat=True)
    ]
    delivered = DeliveryAttempt.objects.filter(reminder__episode_id=pk)
    entries += [Entry("Communication", str(i), i) for i in delivered.values_list("pk", flat=True)]
    entries += [
        Entry("Communication", fhir.outreach_id(i), i, "outreach")
        for i in OutreachNote.objects.filter(**of_episode).values_list("pk", flat=True)
    ]
    entries += [
        Entry("QuestionnaireResponse", str(i), i)
        for i in CheckIn.objects.filter(**of_episode).values_list("pk", flat=True)
    ]
    entries += [
        Entry("Provenance", str(i), i)
        for i in TransitionLog.objects.filter(**of_episode).values_list("pk", flat=True)
    ]
    return entries, today


def everything_resources(episode: Episode, entries: list[Entry], today: date) -> list[Resource]:
    """The resources of ``entries`` (a page of ``episode_everything``), in their order.

    One query per type on the page, for its rows only.
    """
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        kind = "Outreach" if entry.part == "outreach" else entry.resource_type
        wanted.setdefault(kind, set()).add(entry.pk)
    made: dict[tuple[str, str], Resource] = {}
    for kind, pks in wanted.items():
        if kind == "Task":
            continue
        for resource in _EVERYTHING_RENDER[kind](episode, pks, today):
            made[resource["resourceType"], resource["id"]] = resource
    for entry in entries:
        if entry.resource_type == "Task":
            made["Task", entry.id] = fhir.task_resource(episode, entry.part, today)
    return [made[entry.resource_type, entry.id] for entry in entries]


def _condition(episode: Episode) -> Resource:
    resolved = (
        TransitionLog.objects.filter(episode_id=episode.pk, transition="resolve")
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    return fhir.condition_resource(episode, abated=resolved)


def _observations(episode: Episode, pks: set[int]) -> list[Resource]:
    assessments = Assessment.objects.filter(pk__in=pks).select_related("recorded_by")
    return [
        resource
        for assessment in assessments
        for resource in fhir.observation_resources(assessment, patient_id=episode.patient_id)
    ]


_Render = Callable[[Episode, set[int], date], Any]
# Each type's rows of a page of $everything (by their ids), rendered.
_EVERYTHING_RENDER: Final[dict[str, _Render]] = {
    "Patient": lambda e, _pks, _today: [fhir.patient_resource(e.patient)],
    "EpisodeOfCare": lambda e, _pks, _today: [fhir.episode_resource(e)],
    "Condition": lambda e, _pks, _today: [_condition(e)],
    "CarePlan": lambda e, _pks, today: [fhir.careplan_resource(e, care_plan_for(e), today)],
    "Flag": lambda e, pks, _today: (
        fhir.flag_resource(flag, patient_id=e.patient_id)
        for flag in RedFlag.objects.filter(pk__in=pks).select_related("raised_by")
    ),
    "Observation": lambda e, pks, _today: _observations(e, pks),
    "DiagnosticReport": lambda e, pks, _today: (
        fhir.imaging_resource(study, patient_id=e.patient_id)
        for study in ImagingStudy.objects.filter(pk__in=pks).select_related("recorded_by")
    ),
    "CommunicationRequest": lambda e, pks, _today: (
        fhir.communication_request_resource(r, patient_id=e.patient_id, team_id=e.care_team_id)
        for r in Reminder.objects.filter(pk__in=pks)
    ),
    "Communication": lambda e, pks, _today: (
        fhir.communication_resource(a, a.reminder, patient_id=e.patient_id, team_id=e.care_team_id)
        for a in DeliveryAttempt.objects.filter(pk__in=pks).select_related("reminder")
    ),
    "Outreach": lambda e, pks, _today: (
        fhir.outreach_resource(note, patient_id=e.patient_id)
        for note in OutreachNote.objects.filter(pk__in=pks).select_related("by")
    ),
    "QuestionnaireResponse": lambda e, pks, _today: (
        fhir.questionnaire_response_resource(c, c.reminder, patient_id=e.patient_id)
        for c in CheckIn.objects.filter(pk__in=pks).select_related("reminder")
    ),
    "Provenance": lambda _e, pks, _today: (
        fhir.provenance_resource(log)
        for log in TransitionLog.objects.filter(pk__in=pks).select_related("by")
    ),
}


# -- searches ---------------------------------------------------------------------------------

# What a search reads of the rows it renders (the flag's and observation's resources, and
# whose they are): no more. An episode joined for its patient's id is 37 columns, twelve of
# them timestamps parsed in Python; its state is read too, as django-fsm reads it on every
# load (a state left out is a query per row).
_OF_EPISODE: Final = ("episode__state", "episode__patient")
_FLAG_FIELDS: Final = (
    "episode",
    "status",
    "category",
    "sign",
    "source",
    "raised_by",
    "raised_at",
    "ruled_out_at",
)
_ASSESSMENT_FIELDS: Final = ("episode", "values", "note", "source", "recorded_by", "recorded_at")


def _username(relation: str) -> str:
    """The column ``who`` reads of a user (``get_username``) through ``relation``."""
    return f"{relation}__{get_user_model().USERNAME_FIELD}"


def patient_search(
    user: User,
    *,
    ids: list[int] | None,
    birthdate: Q | None,
    name: str | None,
    last_updated: Q | None,
) -> QuerySet[Patient]:
    patients = patient_list_for(user)
    if ids is not None:
        patients = patients.filter(pk__in=ids)
    if birthdate is not None:
        patients = patients.filter(birthdate)
    if last_updated is not None:
        patients = patients.filter(last_updated)
    if name:
        patients = patients.filter(
            Q(given_name__istartswith=name) | Q(family_name__istartswith=name)
        )
    return patients.order_by("id")


def _episodes_of(
    user: User,
    episodes: QuerySet[Episode],
    *,
    ids: list[int] | None,
    patient_ids: list[int] | None,
    last_updated: Q | None,
    where: Q | None = None,
) -> QuerySet[Episode]:
    episodes = episode_list_for(user, episodes)
    if where is not None:
        episodes = episodes.filter(where)
    if ids is not None:
        episodes = episodes.filter(pk__in=ids)
    if patient_ids is not None:
        episodes = episodes.filter(patient_id__in=patient_ids)
    if last_updated is not None:
        episodes = episodes.filter(last_updated)
    return episodes.order_by("id")


def episode_search(
    user: User,
    *,
    ids: list[int] | None,
    patient_ids: list[int] | None,
    states: set[str] | None,
    last_updated: Q | None,
    where: Q | None = None,
) -> QuerySet[Episode]:
    """Episodes of the user's teams; ``states``: the pathway states a status list names.

    Only the columns an EpisodeOfCare is made of, and its care manager's name.
    """
    episodes = _episodes_of(
        user,
        Episode.objects.select_related("assigned_to").only(
            *fhir.EPISODE_FIELDS, _username("assigned_to")
        ),
        ids=ids,
        patient_ids=patient_ids,
        last_updated=last_updated,
        where=where,
    )
    return episodes if states is None else episodes.filter(state__in=states)


def condition_search(
    user: User,
    *,
    ids: list[int] | None,
    patient_ids: list[int] | None,
    last_updated: Q | None,
    where: Q | None = None,
) -> QuerySet[Episode]:
    """One Condition an episode, with the resolve transitions its abatement reads."""
    resolves = TransitionLog.objects.filter(transition="resolve").order_by("at", "id")
    return _episodes_of(
        user,
        Episode.objects.only(*fhir.CONDITION_FIELDS).prefetch_related(
            Prefetch("transitions", resolves.only("episode", "at"), to_attr="resolves")
        ),
        ids=ids,
        patient_ids=patient_ids,
        last_updated=last_updated,
        where=where,
    )


def condition_code_q(tokens: set[str]) -> Q:
    """Episodes whose Condition carries one of these codes.

    The code the referrer sent, or the pathway's own (ICD-10-CM and SNOMED CT) when none was.
    """
    pathway = {codes.ICD10CM_LUMBOSACRAL[0], codes.SNOMED_LUMBOSACRAL_RADICULOPATHY[0]}
    found = Q(condition_code__in=tokens)
    if tokens & pathway:
        found |= Q(condition_code="")
    return found


def abated_at(episode: Episode) -> Any:  # noqa: ANN401 - an aware datetime or None
    """When the episode was last resolved, from ``condition_search``'s prefetch."""
    resolves = episode.resolves  # type: ignore[attr-defined] # condition_search's to_attr
    return resolves[-1].at if resolves else None


def careplan_search(
    user: User,
    *,
    ids: list[int] | None,
    patient_ids: list[int] | None,
    last_updated: Q | None = None,
    where: Q | None = None,
    activity_codes: set[str] | None = None,
) -> QuerySet[Episode]:
    """One CarePlan an episode, its items prefetched; ``activity_codes``: any item of these."""
    if activity_codes is not None:
        items = CarePlanItem.objects.filter(episode_id=OuterRef("pk"), item__in=activity_codes)
        where = (where or Q()) & Q(Exists(items))
    return _episodes_of(
        user,
        Episode.objects.select_related("patient")
        .only(*fhir.CAREPLAN_FIELDS, "patient__timezone")
        .prefetch_related("care_plan"),
        ids=ids,
        patient_ids=patient_ids,
        last_updated=last_updated,
        where=where,
    )


def observation_search(
    user: User,
    *,
    assessment_ids: list[int] | None,
    patient_ids: list[int] | None,
    where: Q | None = None,
    facts: set[str] | None = None,
) -> QuerySet[Assessment]:
    """Assessments (one Observation per fact each recorded) of the user's teams.

    ``facts``: assessments that recorded any of these (the view keeps only their
    Observations); ``where``: by episode, date or time (``recorded_at``).
    """
    assessments = Assessment.objects.select_related("episode", "recorded_by").only(
        *_ASSESSMENT_FIELDS, *_OF_EPISODE, _username("recorded_by")
    )
    if where is not None:
        assessments = assessments.filter(where)
    if facts is not None:
        assessments = assessments.filter(values__has_any_keys=sorted(facts))
    if not user.is_superuser:
        assessments = assessments.filter(episode__care_team_id__in=team_ids_for(user))
    if assessment_ids is not None:
        assessments = assessments.filter(pk__in=assessment_ids)
    if patient_ids is not None:
        assessments = assessments.filter(episode__patient_id__in=patient_ids)
    return assessments.order_by("id")


def flag_updated_q(updated: Any) -> Q:  # noqa: ANN401 - a search.Range
    """Flags last updated in the range (``Flag.meta.lastUpdated``).

    Ruled out then, or raised then and never ruled out.
    """
    return Q(ruled_out_at__isnull=False, **_lookups(updated, "ruled_out_at")) | Q(
        ruled_out_at__isnull=True, **_lookups(updated, "raised_at")
    )


def attempt_category_q(categories: set[str]) -> Q:
    """Delivery attempts of these categories: a patient's ``reminder``, the team's ``alert``."""
    audiences = {
        "reminder": Q(reminder__audience="patient"),
        "alert": ~Q(reminder__audience="patient"),
    }
    found = Q(pk__in=[])
    for category in sorted(categories & set(audiences)):
        found |= audiences[category]
    return found


def attempt_updated_q(updated: Any) -> Q:  # noqa: ANN401 - a search.Range
    """Delivery attempts last updated in the range (``Communication.meta.lastUpdated``).

    Finished then, or begun then and never finished.
    """
    return Q(finished_at__isnull=False, **_lookups(updated, "finished_at")) | Q(
        finished_at__isnull=True, **_lookups(updated, "at")
    )


def _lookups(updated: Any, field: str) -> dict[str, Any]:  # noqa: ANN401 - a search.Range
    return dict(updated.q(field).children)


def flag_search(
    user: User,
    *,
    ids: list[int] | None,
    patient_ids: list[int] | None,
    statuses: set[str] | None,
    where: Q | None = None,
) -> QuerySet[RedFlag]:
    flags = RedFlag.objects.select_related("episode", "raised_by").only(
        *_FLAG_FIELDS, *_OF_EPISODE, _username("raised_by")
    )
    if where is not None:
        flags = flags.filter(where)
    if not user.is_superuser:
        flags = flags.filter(episode__care_team_id__in=team_ids_for(user))
    if ids is not None:
        flags = flags.filter(pk__in=ids)
    if patient_ids is not None:
        flags = flags.filter(episode__patient_id__in=patient_ids)
    if statuses is not None:
        flags = flags.filter(status__in=statuses)
    return flags.order_by("id")


@dataclass(frozen=True, slots=True)
class Found:
    """A page of a search: its resources, whose they are (for the audit), the total, links."""

    resources: list[Resource]
    patient_ids: list[int]
    total: int | None
    page: Page[Any]


# A Communication's sort key: (time, kind, row id); kind 0 a delivery attempt, 1 a note.
ATTEMPT, NOTE = 0, 1


def _communication_bound(kind: int, cursor: Cursor | None) -> Q:
    """Rows of ``kind`` strictly beyond the cursor's (time, kind, id) in its direction."""
    if cursor is None:
        return Q()
    try:
        at = datetime.fromisoformat(cursor.key[0])
        mark_kind, mark_id = int(cursor.key[1]), int(cursor.key[2])
    except ValueError as exc:
        raise invalid_cursor() from exc
    if at.tzinfo is None or mark_kind not in (ATTEMPT, NOTE) or not 0 <= mark_id <= MAX_ID:
        raise invalid_cursor()
    if cursor.backward:
        if kind == mark_kind:
            return Q(at__lt=at) | Q(at=at, id__lt=mark_id)
        return Q(at__lt=at) if kind > mark_kind else Q(at__lte=at)
    if kind == mark_kind:
        return Q(at__gt=at) | Q(at=at, id__gt=mark_id)
    return Q(at__gt=at) if kind < mark_kind else Q(at__gte=at)


def _sum(*totals: int | None) -> int | None:
    if any(t is None for t in totals):
        return None
    found = sum(t for t in totals if t is not None)
    return found if found <= TOTAL_LIMIT else None


def _total(attempts: QuerySet[Any], notes: QuerySet[Any], *, exact: bool | None) -> int | None:
    """Both kinds' total: None (``_total=none``), exact, or bounded (TOTAL_LIMIT)."""
    if exact is None:
        return None
    if exact:
        return attempts.order_by().count() + notes.order_by().count()
    return _sum(total_of(attempts), total_of(notes))


def communication_search(
    user: User,
    *,
    patient_ids: list[int] | None,
    ids: tuple[list[int], list[int]] | None,
    cursor: Cursor | None,
    count: int,
    attempts_where: Q | None = None,
    notes_where: Q | None = None,
    exact_total: bool | None = False,
) -> Found:
    """Both kinds of Communication by time: reminders' delivery attempts, outreach notes.

    Scoped to the user's care teams like every other search. The next ``count`` + 1 of
    each kind beyond the cursor hold the page's, so it is two bounded queries and two
    counts, then a merge.
    """
    attempts = DeliveryAttempt.objects.select_related("reminder__episode")
    notes = OutreachNote.objects.select_related("episode", "by")
    if not user.is_superuser:
        teams = team_ids_for(user)
        attempts = attempts.filter(reminder__episode__care_team_id__in=teams)
        notes = notes.filter(episode__care_team_id__in=teams)
    if patient_ids is not None:
        attempts = attempts.filter(reminder__episode__patient_id__in=patient_ids)
        notes = notes.filter(episode__patient_id__in=patient_ids)
    if ids is not None:  # (delivery attempt ids, outreach note ids)
        attempts = attempts.filter(pk__in=ids[0])
        notes = notes.filter(pk__in=ids[1])
    if attempts_where is not None:
        attempts = attempts.filter(attempts_where)
    if notes_where is not None:
        notes = notes.filter(notes_where)
    backward = cursor is not None and cursor.backward
    order = ("-at", "-id") if backward else ("at", "id")
    rows: list[tuple[Any, int, int, Episode, Callable[[], Resource]]] = []
    for attempt in attempts.filter(_communication_bound(ATTEMPT, cursor)).order_by(*order)[
        : count + 1
    ]:
        episode = attempt.reminder.episode
        render = partial(
            fhir.communication_resource,
            attempt,
            attempt.reminder,
            patient_id=episode.patient_id,
            team_id=episode.care_team_id,
        )
        rows.append((attempt.at, ATTEMPT, attempt.pk, episode, render))
    for note in notes.filter(_communication_bound(NOTE, cursor)).order_by(*order)[: count + 1]:
        render = partial(fhir.outreach_resource, note, patient_id=note.episode.patient_id)
        rows.append((note.at, NOTE, note.pk, note.episode, render))
    rows.sort(key=lambda row: (row[0], row[1], row[2]), reverse=backward)
    more = len(rows) > count
    rows = rows[:count]
    if backward:
        rows.reverse()
    page = page_from(
        rows,
        more=more,
        cursor=cursor,
        key=lambda row: [row[0].isoformat(), str(row[1]), str(row[2])],
    )
    return Found(
        resources=[row[4]() for row in rows],
        patient_ids=[row[3].patient_id for row in rows],
        total=_total(attempts, notes, exact=exact_total),
        page=page,
    )


def open_episodes_for(
    user: User, *, patient_ids: list[int] | None, where: Q | None = None
) -> QuerySet[Episode]:
    """Open episodes with what their next actions read, prefetched (Task search)."""
    episodes = episode_list_for(user).filter(state__in=[s.value for s in NON_TERMINAL_STATES])
    if where is not None:
        episodes = episodes.filter(where)
    if patient_ids is not None:
        episodes = episodes.filter(patient_id__in=patient_ids)
    return episodes.order_by("id")


def questionnaire_milestones() -> list[Milestone]:
    return list(Milestone)


def task_page(
    user: User,
    *,
    patient_ids: list[int] | None,
    ids: list[tuple[int, str]] | None,
    keep: Callable[[Any], bool],
    cursor: Cursor | None,
    count: int,
    where: Q | None = None,
) -> Page[tuple[Episode, Any, date]]:
    """A page of (episode, next action, the patient's today).

    By episode id, then in careflow's order of the episode's next actions.
    """
    episodes = open_episodes_for(user, patient_ids=patient_ids, where=where)
    if ids is not None:
        episodes = episodes.filter(id__in={episode_id for episode_id, _action in ids})

    def expand(episode: Episode) -> list[tuple[str, tuple[Episode, Any, date]]]:
        # Each task keyed by its place in careflow's order of next actions (the urgent
        # first), zero-padded so the keys sort as the places do.
        today = patient_today(episode.patient)
        return [
            (f"{n:04d}", (episode, action, today))
            for n, action in enumerate(episode_tasks(episode, today))
            if keep(action) and (ids is None or (episode.pk, action.action) in ids)
        ]

    return expanded_rows(episodes, expand, cursor, count)
