"""The FHIR facade's reads: built on episodes.selectors, the same care-team scoping.

A single resource is located first (its row, its episode), so the audit trail can name the
episode and patient it is about even when the answer is a 404, and only then checked
against the user's care teams. Lists are one query each (plus fixed prefetches).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from careflow.deadlines import Milestone, next_actions
from careflow.states import NON_TERMINAL_STATES, TERMINAL_STATES, State
from episodes.models import (
    Assessment,
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
from interop import resources as fhir
from notifications.models import CheckIn, DeliveryAttempt, Reminder
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


def episode_everything(episode: Episode) -> list[Resource]:
    """The episode and every resource about it: a fixed number of queries, whatever its size."""
    patient_id, team_id = episode.patient_id, episode.care_team_id
    today = patient_today(episode.patient)
    out: list[Resource] = [
        fhir.patient_resource(episode.patient),
        fhir.episode_resource(episode),
    ]
    transitions = list(TransitionLog.objects.filter(episode_id=episode.pk).select_related("by"))
    resolved = [log.at for log in transitions if log.transition == "resolve"]
    out.append(fhir.condition_resource(episode, abated=resolved[-1] if resolved else None))
    out.append(fhir.careplan_resource(episode, care_plan_for(episode), today))
    flags = RedFlag.objects.filter(episode_id=episode.pk).select_related("raised_by")
    out.extend(fhir.flag_resource(flag, patient_id=patient_id) for flag in flags)
    assessments = Assessment.objects.filter(episode_id=episode.pk).select_related("recorded_by")
    for assessment in assessments:
        out.extend(fhir.observation_resources(assessment, patient_id=patient_id))
    studies = ImagingStudy.objects.filter(episode_id=episode.pk).select_related("recorded_by")
    out.extend(fhir.imaging_resource(study, patient_id=patient_id) for study in studies)
    out.extend(fhir.task_resource(episode, a, today) for a in episode_tasks(episode, today))
    reminders = list(
        Reminder.objects.filter(episode_id=episode.pk)
        .order_by("due_at", "id")
        .prefetch_related(Prefetch("deliveries", DeliveryAttempt.objects.order_by("at", "id")))
    )
    for reminder in reminders:
        out.append(
            fhir.communication_request_resource(reminder, patient_id=patient_id, team_id=team_id)
        )
        out.extend(
            fhir.communication_resource(a, reminder, patient_id=patient_id, team_id=team_id)
            for a in reminder.deliveries.all()
        )
    notes = OutreachNote.objects.filter(episode_id=episode.pk).select_related("by")
    out.extend(
        fhir.outreach_resource(note, patient_id=patient_id) for note in notes.order_by("at", "id")
    )
    checkins = CheckIn.objects.filter(episode_id=episode.pk).select_related("reminder")
    out.extend(
        fhir.questionnaire_response_resource(c, c.reminder, patient_id=patient_id) for c in checkins
    )
    out.extend(fhir.provenance_resource(log) for log in transitions)
    return out


# -- searches ---------------------------------------------------------------------------------


def patient_search(user: User, *, birthdate: Q | None, name: str | None) -> QuerySet[Patient]:
    patients = patient_list_for(user)
    if birthdate is not None:
        patients = patients.filter(birthdate)
    if name:
        patients = patients.filter(
            Q(given_name__istartswith=name) | Q(family_name__istartswith=name)
        )
    return patients.order_by("id")


def episode_search(user: User, *, patient_id: int | None, status: str | None) -> QuerySet[Episode]:
    episodes = episode_list_for(user).select_related("assigned_to")
    if patient_id is not None:
        episodes = episodes.filter(patient_id=patient_id)
    if status == "active":
        episodes = episodes.filter(state__in=[s.value for s in NON_TERMINAL_STATES])
    elif status == "finished":
        episodes = episodes.filter(state__in=[s.value for s in TERMINAL_STATES])
    elif status is not None:
        episodes = episodes.none()
    return episodes.order_by("id")


def flag_search(user: User, *, patient_id: int | None) -> QuerySet[RedFlag]:
    flags = RedFlag.objects.select_related("episode", "raised_by")
    if not user.is_superuser:
        flags = flags.filter(episode__care_team_id__in=team_ids_for(user))
    if patient_id is not None:
        flags = flags.filter(episode__patient_id=patient_id)
    return flags.order_by("id")


@dataclass(frozen=True, slots=True)
class Found:
    """A page of a search: its resources, whose they are (for the audit), the total."""

    resources: list[Resource]
    patient_ids: list[int]
    total: int


def communication_search(user: User, *, patient_id: int | None, count: int) -> Found:
    """Both kinds of Communication by time: reminders' delivery attempts, outreach notes.

    Scoped to the user's care teams like every other search. The first ``count`` of each
    kind hold the page's, so it is two bounded queries and two counts, then a merge.
    """
    attempts = DeliveryAttempt.objects.select_related("reminder__episode")
    notes = OutreachNote.objects.select_related("episode", "by")
    if not user.is_superuser:
        teams = team_ids_for(user)
        attempts = attempts.filter(reminder__episode__care_team_id__in=teams)
        notes = notes.filter(episode__care_team_id__in=teams)
    if patient_id is not None:
        attempts = attempts.filter(reminder__episode__patient_id=patient_id)
        notes = notes.filter(episode__patient_id=patient_id)
    rows: list[tuple[Any, int, Episode, Callable[[], Resource]]] = []
    for attempt in attempts.order_by("at", "id")[:count]:
        episode = attempt.reminder.episode
        render = partial(
            fhir.communication_resource,
            attempt,
            attempt.reminder,
            patient_id=episode.patient_id,
            team_id=episode.care_team_id,
        )
        rows.append((attempt.at, attempt.pk, episode, render))
    for note in notes.order_by("at", "id")[:count]:
        render = partial(fhir.outreach_resource, note, patient_id=note.episode.patient_id)
        rows.append((note.at, note.pk, note.episode, render))
    page = sorted(rows, key=lambda row: (row[0], row[1]))[:count]
    return Found(
        resources=[render() for _at, _pk, _episode, render in page],
        patient_ids=[episode.patient_id for _at, _pk, episode, _render in page],
        total=attempts.count() + notes.count(),
    )


def open_episodes_for(user: User, *, patient_id: int | None) -> QuerySet[Episode]:
    """Open episodes with what their next actions read, prefetched (Task search)."""
    episodes = episode_list_for(user).filter(state__in=[s.value for s in NON_TERMINAL_STATES])
    if patient_id is not None:
        episodes = episodes.filter(patient_id=patient_id)
    return episodes.order_by("id")


def questionnaire_milestones() -> list[Milestone]:
    return list(Milestone)
