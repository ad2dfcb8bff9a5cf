"""The work queues: a registry of conditions on indexed columns, and their pages and counts.

Each queue's membership is defined once, as SQL on ``episodes_episode``'s columns (its
``where``): the page's hand-written statement pastes it in (``queue_rows.queue_page_rows``),
and the ORM uses the same text (``Queue.condition``) for the counts and for querysets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from django.db.models import BooleanField, Count, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from careflow.schedule import DUE_SOON_DAYS
from careflow.states import NON_TERMINAL_STATES, PRE_REFERRAL_STATES, State
from episodes.models import Episode
from episodes.selectors.access import episode_list_for, team_ids_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

# A queue's membership: SQL text on "episodes_episode"'s columns and its %s parameters, for
# this user at this moment. It compares the episode's instants (careflow.schedule.
# queue_moments, in the patient's zone) with now: "today" is each patient's local date
# (PATHWAY.md "Queue dates").
Where = Callable[["User", datetime], tuple[str, tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class Queue:
    """A work queue: which of the user's episodes, in which order (most pressing first).

    Every condition reads indexed columns of Episode (or a partial index of a higher app's
    rows), and the order ends with ``id`` so keyset pagination is exact.
    """

    name: str
    where: Where
    ordering: tuple[str, ...]
    # What this queue's rows carry beyond every row's columns (notifications' ``reply`` on
    # unread_replies): (name, a scalar subquery on the row's "episodes_episode" as SQL text
    # without parameters). Read in the page's one query (episodes.selectors.queue_rows).
    columns: tuple[tuple[str, str], ...] = ()
    # The states its ``where`` admits: the workspace's state filter offers these only.
    states: tuple[State, ...] = tuple(State)

    def condition(self, user: User, now: datetime) -> RawSQL:
        """``where`` as an expression the ORM filters and counts with: the same text."""
        sql, params = self.where(user, now)
        return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 - fixed text


# Open episodes' states in the pathway's order (careflow.states.State).
OPEN_STATES: Final = tuple(s for s in State if s in NON_TERMINAL_STATES)
OPEN_EPISODES: Final = (
    f'"episodes_episode"."state" IN ({", ".join(["%s"] * len(NON_TERMINAL_STATES))})',
    tuple(sorted(s.value for s in NON_TERMINAL_STATES)),
)


def _urgent(_user: User, _now: datetime) -> tuple[str, tuple[Any, ...]]:
    # PATHWAY.md: a raised red flag, or a patient's red-flag report, puts the episode in
    # the queue until someone acts on it (``urgent_since``; ``urgent_rank`` is set with it).
    return '"episodes_episode"."urgent_since" IS NOT NULL', ()


# Every patient's local date is within a day of the UTC date. The exact test is on the
# instants; the date bounds beside it change no answer and let the (date, id) index that
# orders the queue be range-scanned instead of walked from its start.
LOCAL_DATE_SPREAD = timedelta(days=1)


def _overdue(_user: User, now: datetime) -> tuple[str, tuple[Any, ...]]:
    # The deadline's date has passed in the patient's zone.
    latest = now.astimezone(UTC).date() + LOCAL_DATE_SPREAD
    return (
        '"episodes_episode"."overdue_from" <= %s AND "episodes_episode"."next_deadline" < %s',
        (now, latest),
    )


def _due_soon(_user: User, now: datetime) -> tuple[str, tuple[Any, ...]]:
    # Within DUE_SOON_DAYS of the deadline in the patient's zone, and not yet overdue. Both
    # date bounds are implied: without the upper one, a page near the queue's end read
    # every later deadline of the team before it could stop.
    today = now.astimezone(UTC).date()
    earliest = today - LOCAL_DATE_SPREAD
    latest = today + LOCAL_DATE_SPREAD + timedelta(days=DUE_SOON_DAYS)
    return (
        (
            '"episodes_episode"."due_soon_from" <= %s AND "episodes_episode"."overdue_from" > %s'
            ' AND "episodes_episode"."next_deadline" >= %s'
            ' AND "episodes_episode"."next_deadline" <= %s'
        ),
        (now, now, earliest, latest),
    )


def _reassessment_due(_user: User, now: datetime) -> tuple[str, tuple[Any, ...]]:
    # CC-1: past day 42 of conservative care with no reassessment since (the column is
    # cleared once a clinician's assessment after day 42 is recorded or the state changes).
    latest = now.astimezone(UTC).date() + LOCAL_DATE_SPREAD
    return (
        (
            '"episodes_episode"."state" = %s AND "episodes_episode"."reassessment_due_from" <= %s'
            ' AND "episodes_episode"."reassessment_due_on" <= %s'
        ),
        (State.CONSERVATIVE_CARE.value, now, latest),
    )


def _in_state(state: State) -> Where:
    def where(_user: User, _now: datetime) -> tuple[str, tuple[Any, ...]]:
        return '"episodes_episode"."state" = %s', (state.value,)

    return where


def _unassigned(_user: User, _now: datetime) -> tuple[str, tuple[Any, ...]]:
    open_sql, open_params = OPEN_EPISODES
    return f'"episodes_episode"."assigned_to_id" IS NULL AND {open_sql}', open_params


def _mine(user: User, _now: datetime) -> tuple[str, tuple[Any, ...]]:
    open_sql, open_params = OPEN_EPISODES
    return f'"episodes_episode"."assigned_to_id" = %s AND {open_sql}', (user.pk, *open_params)


# The order of the queues without one of their own: every urgent episode first, then the
# soonest next deadline (careflow.urgency.pressing_order; Episode's generated columns).
PRESSING: Final = ("pressing_rank", "pressing_deadline", "id")

QUEUES: Final[dict[str, Queue]] = {
    queue.name: queue
    for queue in (
        # PATHWAY.md "Order of the urgent queue": careflow.urgency's rank, then the longest
        # waiting first.
        # A patient's red-flag report keeps even a resolved or closed episode in it.
        Queue("urgent", _urgent, ("urgent_rank", "urgent_since", "id")),
        # A deadline is open only before the referral (careflow.deadlines.deadlines).
        Queue(
            "overdue",
            _overdue,
            ("next_deadline", "id"),
            states=tuple(s for s in State if s in PRE_REFERRAL_STATES),
        ),
        Queue(
            "due_soon",
            _due_soon,
            ("next_deadline", "id"),
            states=tuple(s for s in State if s in PRE_REFERRAL_STATES),
        ),
        Queue(
            "reassessment_due",
            _reassessment_due,
            ("reassessment_due_on", "id"),
            states=(State.CONSERVATIVE_CARE,),
        ),
        *(
            Queue(state.value, _in_state(state), PRESSING, states=(state,))
            for state in (
                State.IMAGING_ELIGIBLE,
                State.ESI,
                State.SPECIALIST_REFERRAL,
                State.SURGICAL_REVIEW,
            )
        ),
        Queue("unassigned", _unassigned, PRESSING, states=OPEN_STATES),
        Queue("mine", _mine, PRESSING, states=OPEN_STATES),
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
    """One queue's episodes as model instances, most pressing first; 404 for an unknown name.

    The pages read rows instead (``queue_rows.queue_page_rows``), with the same ``where``.
    """
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
