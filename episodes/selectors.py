"""Every read of episodes: facts for the guards, access-checked fetches, the episode view."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from careflow.deadlines import deadlines, next_actions
from careflow.facts import BOOLEAN_FACTS, Facts, ImagingFinding
from careflow.guards import evaluate
from careflow.redflags import RedFlag as RedFlagFact
from careflow.states import NON_TERMINAL_STATES, State, transitions_from
from episodes.models import (
    CarePlanItem,
    CareTeam,
    CareTeamMembership,
    Correction,
    Episode,
    ImagingStudy,
    Patient,
    RedFlag,
    RedFlagStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


def patient_today(patient: Patient) -> date:
    """Dates are the patient's local calendar dates (PATHWAY.md "Day arithmetic")."""
    return timezone.now().astimezone(ZoneInfo(patient.timezone)).date()


def episode_facts(episode: Episode) -> Facts:
    """The facts the guards evaluate, built from the episode and its rows.

    Uses the prefetched ``red_flags`` and ``imaging`` when present (list pages), and two
    small queries otherwise.
    """
    flags = [f for f in episode.red_flags.all() if f.status == RedFlagStatus.ACTIVE]
    current = episode.facts or {}
    return Facts(
        symptom_onset=episode.symptom_onset,
        conservative_care_start=episode.conservative_care_start,
        birth_date=episode.patient.birth_date,
        **{name: bool(current.get(name, False)) for name in BOOLEAN_FACTS},
        disabling_pain_recorded_on=episode.disabling_pain_recorded_on,
        neurological_deficit_recorded_on=episode.neurological_deficit_recorded_on,
        active_red_flags=tuple(RedFlagFact(sign=f.sign, raised_on=f.raised_on) for f in flags),
        imaging=tuple(
            ImagingFinding(
                modality=s.modality,
                performed_on=s.performed_on,
                nerve_root_compression=s.nerve_root_compression,
                clinically_correlated=s.clinically_correlated,
                level=s.level,
            )
            for s in episode.imaging.all()
        ),
        referral_made_on=episode.referral_made_on,
        education_recorded=episode.education_recorded,
        last_assessment_on=episode.last_assessment_on,
        enrolled_on=episode.enrolled_on,
        resolution_reported_on=episode.resolution_reported_on,
        surgical_review_urgent=episode.surgical_review_urgent,
    )


def episode_pathway_view(episode: Episode, today: date | None = None) -> dict[str, Any]:
    """Deadlines, next actions and available transitions, all computed by careflow."""
    facts = episode_facts(episode)
    today = today or patient_today(episode.patient)
    state = State(episode.state)
    return {
        "facts": {name: getattr(facts, name) for name in BOOLEAN_FACTS},
        "days_since_onset": facts.days_since_onset(today),
        "days_of_conservative_care": facts.days_of_conservative_care(today),
        "deadlines": [d.as_dict(today) for d in deadlines(state, facts)],
        "next_actions": [a.as_dict() for a in next_actions(state, facts, today)],
        "available_transitions": [
            {
                "name": spec.name.value,
                "target": spec.target.value,
                "clinician_only": spec.clinician_only,
                "allowed": not (reasons := evaluate(spec.name, facts, today)),
                "reasons": [r.as_dict() for r in reasons],
            }
            for spec in transitions_from(state)
        ],
    }


# -- access: what a user may see --------------------------------------------------------------

# The largest primary key a row can have (a signed 64-bit integer). A larger id in a URL
# names nothing; it is answered with 404 before it reaches the database driver, which
# would refuse to bind it.
MAX_ID: Final = 2**63 - 1


def _check_id(value: int) -> None:
    if not 0 < value <= MAX_ID:
        raise Http404


def team_ids_for(user: User) -> QuerySet[CareTeamMembership]:
    """The ids of the user's care teams, as a subquery."""
    return CareTeamMembership.objects.filter(user_id=user.pk).values("team_id")


def care_teams_for(user: User) -> QuerySet[CareTeam]:
    """The teams whose patients and episodes the user may see (superusers: every team)."""
    if user.is_superuser:
        return CareTeam.objects.order_by("id")
    return CareTeam.objects.filter(pk__in=team_ids_for(user)).order_by("id")


def care_team_has_member(*, team_id: int, user_id: int) -> bool:
    return CareTeamMembership.objects.filter(team_id=team_id, user_id=user_id).exists()


def patient_list_for(user: User) -> QuerySet[Patient]:
    patients = Patient.objects.all()
    if not user.is_superuser:
        patients = patients.filter(care_team_id__in=team_ids_for(user))
    return patients


def patient_get_for(user: User, patient_id: int) -> Patient:
    """A patient of one of the user's teams; 404 otherwise, whether or not it exists."""
    _check_id(patient_id)
    try:
        return patient_list_for(user).get(pk=patient_id)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc


def episode_list_for(user: User) -> QuerySet[Episode]:
    """Episodes of the user's teams, with what a summary or the guards read, prefetched.

    Whatever the page size, a page costs one query for the episodes (patients joined) and
    one each for their red flags and imaging.
    """
    episodes = Episode.objects.select_related("patient").prefetch_related("red_flags", "imaging")
    if not user.is_superuser:
        # The team ids as values, not a subquery (issue 16): PostgreSQL then reads a team's
        # ordered index (episode_team_*) range instead of filtering the whole queue.
        team_ids = list(team_ids_for(user).values_list("team_id", flat=True))
        episodes = episodes.filter(care_team_id__in=team_ids)
    return episodes


def episode_get_for(user: User, episode_id: int) -> Episode:
    """An episode of one of the user's teams; 404 otherwise (never leak existence)."""
    _check_id(episode_id)
    try:
        return episode_list_for(user).prefetch_related("care_plan").get(pk=episode_id)
    except Episode.DoesNotExist as exc:
        raise Http404 from exc


def red_flag_get_for(episode: Episode, flag_id: int) -> RedFlag:
    _check_id(flag_id)
    try:
        return RedFlag.objects.get(pk=flag_id, episode_id=episode.pk)
    except RedFlag.DoesNotExist as exc:
        raise Http404 from exc


def care_plan_item_get_for(episode: Episode, item_id: int) -> CarePlanItem:
    _check_id(item_id)
    try:
        return CarePlanItem.objects.get(pk=item_id, episode_id=episode.pk)
    except CarePlanItem.DoesNotExist as exc:
        raise Http404 from exc


def care_plan_for(episode: Episode) -> list[CarePlanItem]:
    """The plan items in the order they were recorded (prefetched on a detail fetch)."""
    return sorted(episode.care_plan.all(), key=lambda item: (item.recorded_at, item.pk))


def active_red_flags(episode: Episode) -> list[RedFlag]:
    return [f for f in episode.red_flags.all() if f.status == RedFlagStatus.ACTIVE]


def episode_next_action(episode: Episode, today: date | None = None) -> dict[str, str] | None:
    """The most pressing next action (careflow's order), for queue summaries."""
    today = today or patient_today(episode.patient)
    actions = next_actions(State(episode.state), episode_facts(episode), today)
    return actions[0].as_dict() if actions else None


# -- queues -----------------------------------------------------------------------------------

# A queue condition compares the episode's instants (careflow.schedule.queue_moments, in
# the patient's zone) with now: "today" is each patient's local date (PATHWAY.md).
QueueCondition = Callable[["User", datetime], Q]


@dataclass(frozen=True, slots=True)
class Queue:
    """A work queue: which of the user's episodes, in which order (most pressing first).

    Every condition reads indexed columns of Episode (or the partial index of failed
    reminders), and the order ends with ``id`` so keyset pagination is exact.
    """

    name: str
    condition: QueueCondition
    ordering: tuple[str, ...]


OPEN_EPISODES = Q(state__in=[s.value for s in NON_TERMINAL_STATES])


def _urgent(_user: User, _now: datetime) -> Q:
    # PATHWAY.md: a raised red flag heads the queue until someone acts on it.
    return Q(urgent_since__isnull=False)


# Every patient's local date is within a day of the UTC date. The exact test is on the
# instants; the date bounds beside it change no answer and let the (date, id) index that
# orders the queue be range-scanned instead of walked from its start.
LOCAL_DATE_SPREAD = timedelta(days=1)


def _overdue(_user: User, now: datetime) -> Q:
    # The deadline's date has passed in the patient's zone.
    latest = now.astimezone(UTC).date() + LOCAL_DATE_SPREAD
    return Q(overdue_from__lte=now, next_deadline__lt=latest)


def _due_soon(_user: User, now: datetime) -> Q:
    # Within DUE_SOON_DAYS of the deadline in the patient's zone, and not yet overdue.
    earliest = now.astimezone(UTC).date() - LOCAL_DATE_SPREAD
    return Q(due_soon_from__lte=now, overdue_from__gt=now, next_deadline__gte=earliest)


def _reassessment_due(_user: User, now: datetime) -> Q:
    # CC-1: past day 42 of conservative care with no reassessment since (the column is
    # cleared once an assessment after day 42 is recorded or the state changes).
    latest = now.astimezone(UTC).date() + LOCAL_DATE_SPREAD
    return Q(
        state=State.CONSERVATIVE_CARE,
        reassessment_due_from__lte=now,
        reassessment_due_on__lte=latest,
    )


def _in_state(state: State) -> QueueCondition:
    def condition(_user: User, _now: datetime) -> Q:
        return Q(state=state)

    return condition


def _unassigned(_user: User, _now: datetime) -> Q:
    return Q(assigned_to__isnull=True) & OPEN_EPISODES


def _mine(user: User, _now: datetime) -> Q:
    return Q(assigned_to_id=user.pk) & OPEN_EPISODES


QUEUES: Final[dict[str, Queue]] = {
    queue.name: queue
    for queue in (
        Queue("urgent", _urgent, ("urgent_since", "id")),
        Queue("overdue", _overdue, ("next_deadline", "id")),
        Queue("due_soon", _due_soon, ("next_deadline", "id")),
        Queue("reassessment_due", _reassessment_due, ("reassessment_due_on", "id")),
        Queue("imaging_eligible", _in_state(State.IMAGING_ELIGIBLE), ("id",)),
        Queue("esi", _in_state(State.ESI), ("id",)),
        Queue("specialist_referral", _in_state(State.SPECIALIST_REFERRAL), ("id",)),
        Queue("surgical_review", _in_state(State.SURGICAL_REVIEW), ("id",)),
        Queue("unassigned", _unassigned, ("id",)),
        Queue("mine", _mine, ("id",)),
    )
}


def queue_register(queue: Queue, *, after: str) -> None:
    """Add a queue a higher app owns (notifications' ``delivery_failures``) after ``after``.

    Called from that app's ``AppConfig.ready``, before any request: the queues' order is
    the API's and the workspace's, so a registered queue takes its place in it.
    """
    names = list(QUEUES)
    queues = [QUEUES[name] for name in names]
    queues.insert(names.index(after) + 1, queue)
    QUEUES.clear()
    QUEUES.update((q.name, q) for q in queues)


def queue_get(name: str) -> Queue:
    try:
        return QUEUES[name]
    except KeyError as exc:
        raise Http404 from exc


def queue_episodes(name: str, *, user: User, now: datetime | None = None) -> QuerySet[Episode]:
    """One queue's episodes for this user, most pressing first; 404 for an unknown name."""
    queue = queue_get(name)
    now = now or timezone.now()
    return episode_list_for(user).filter(queue.condition(user, now)).order_by(*queue.ordering)


def queue_counts(*, user: User, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every queue's size for this user, in one aggregate query."""
    now = now or timezone.now()
    visible = Episode.objects.all()
    if not user.is_superuser:
        visible = visible.filter(care_team_id__in=team_ids_for(user))
    counts = visible.aggregate(
        **{name: Count("pk", filter=queue.condition(user, now)) for name, queue in QUEUES.items()}
    )
    return [{"name": name, "count": counts[name]} for name in QUEUES]


# -- timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened to an episode: when, what, who (a username or the source)."""

    at: datetime
    kind: str
    ref: int  # the id of the row it comes from: a stable order for events at the same instant
    by: str | None
    source: str
    data: dict[str, Any]


TimelineSource = Callable[[Episode], Iterable[TimelineEvent]]


def _username(user: Any) -> str | None:  # noqa: ANN401 - any auth user model, or None
    return None if user is None else user.get_username()


def _transition_events(episode: Episode) -> Iterable[TimelineEvent]:
    for log in episode.transitions.select_related("by").order_by("at", "id"):
        yield TimelineEvent(
            log.at,
            "transition",
            log.pk,
            _username(log.by),
            log.source,
            {
                "transition": log.transition,
                "from": log.from_state,
                "to": log.to_state,
                "body": log.body,
            },
        )


def _assessment_events(episode: Episode) -> Iterable[TimelineEvent]:
    for row in episode.assessments.select_related("recorded_by").order_by("recorded_at", "id"):
        yield TimelineEvent(
            row.recorded_at,
            "assessment",
            row.pk,
            _username(row.recorded_by),
            row.source,
            {"values": row.values, "note": row.note},
        )


def _red_flag_events(episode: Episode) -> Iterable[TimelineEvent]:
    flags = RedFlag.objects.filter(episode_id=episode.pk).select_related(
        "raised_by", "ruled_out_by"
    )
    for flag in flags.order_by("raised_at", "id"):
        about = {"red_flag": flag.pk, "sign": flag.sign, "category": flag.category}
        yield TimelineEvent(
            flag.raised_at,
            "red_flag_raised",
            flag.pk,
            _username(flag.raised_by),
            flag.source,
            {**about, "note": flag.note},
        )
        if flag.ruled_out_at is not None:
            yield TimelineEvent(
                flag.ruled_out_at,
                "red_flag_ruled_out",
                flag.pk,
                _username(flag.ruled_out_by),
                "user",
                {**about, "note": flag.ruled_out_note},
            )


def _imaging_events(episode: Episode) -> Iterable[TimelineEvent]:
    studies = ImagingStudy.objects.filter(episode_id=episode.pk)
    for study in studies.select_related("recorded_by").order_by("recorded_at", "id"):
        yield TimelineEvent(
            study.recorded_at,
            "imaging",
            study.pk,
            _username(study.recorded_by),
            "user",
            {
                "modality": study.modality,
                "performed_on": study.performed_on.isoformat(),
                "nerve_root_compression": study.nerve_root_compression,
                "level": study.level,
                "clinically_correlated": study.clinically_correlated,
            },
        )


def _care_plan_events(episode: Episode) -> Iterable[TimelineEvent]:
    items = CarePlanItem.objects.filter(episode_id=episode.pk).select_related("recorded_by")
    for item in items.order_by("recorded_at", "id"):
        yield TimelineEvent(
            item.recorded_at,
            "care_plan_item",
            item.pk,
            _username(item.recorded_by),
            "user",
            {
                "item": item.item,
                "category": item.category,
                "started_on": item.started_on.isoformat() if item.started_on else None,
                "ended_on": item.ended_on.isoformat() if item.ended_on else None,
                "flags": item.flags,
            },
        )


def _correction_events(episode: Episode) -> Iterable[TimelineEvent]:
    # A birth date is the patient's: its correction shows on each of the patient's episodes.
    corrections = Correction.objects.filter(
        Q(episode_id=episode.pk) | Q(patient_id=episode.patient_id, episode__isnull=True)
    )
    for row in corrections.select_related("by").order_by("at", "id"):
        yield TimelineEvent(
            row.at,
            "correction",
            row.pk,
            _username(row.by),
            "user",
            {
                "field": row.field,
                "old": row.old_value.isoformat(),
                "new": row.new_value.isoformat(),
                "reason": row.reason,
            },
        )


# A new kind of event is one more function here (or, for a higher app's rows, one
# timeline_source_register call in its AppConfig.ready): each source costs a fixed number
# of queries, whatever the number of rows.
TIMELINE_SOURCES: list[TimelineSource] = [
    _transition_events,
    _assessment_events,
    _red_flag_events,
    _imaging_events,
    _care_plan_events,
    _correction_events,
]


def timeline_source_register(source: TimelineSource) -> None:
    """Add a source a higher app owns (notifications' reminders and messages) at startup.

    The timeline is sorted by (at, kind, ref), so the order of the sources changes nothing.
    """
    if source not in TIMELINE_SOURCES:
        TIMELINE_SOURCES.append(source)


def episode_timeline(episode: Episode) -> list[TimelineEvent]:
    """Everything that happened to the episode, oldest first."""
    events = [event for source in TIMELINE_SOURCES for event in source(episode)]
    return sorted(events, key=lambda e: (e.at, e.kind, e.ref))
