"""A queue page as plain rows, in one hand-written statement.

The queue pages are the hottest reads. Through model instances a page cost three queries
(the page, then red flags and imaging prefetched) and most of its time in Python; compiling
a page's queryset was ~20 % of a page's CPU (SQLCompiler.as_sql and pre_sql_setup,
cProfile of 400 pages). A page is instead one statement written here, prepared once per
connection (infra/db.py; docs/decisions/0002, 0003): the episode's columns, the patient's
name, birth date and zone, each episode's active red flags and imaging studies as JSON
arrays, and the queue's own columns; the team filter (``team_id_list``), the queue's
``where``, the page's filters, the keyset condition (docs/decisions/0004) and the queue's
order. The facts careflow reads are built from the row, and the next action is careflow's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import JSONField
from django.utils import timezone

from careflow.deadlines import next_actions
from careflow.facts import BOOLEAN_FACTS, Facts, ImagingFinding
from careflow.redflags import RedFlag as RedFlagFact
from careflow.states import State
from episodes.models import Episode, Patient, RedFlagStatus
from episodes.selectors.access import remember_team_ids, team_id_list
from episodes.selectors.pathway import local_date
from episodes.selectors.queues import QUEUES, queue_get
from episodes.selectors.search import name_words_sql
from infra.db import prepared_cursor

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


# Each episode's active red flags and imaging studies as a JSON array beside its columns
# (NULL when it has none): a correlated subquery on the row's episode. Built by the ORM
# (``Subquery`` of ``JSONObject``s) it cost ~0.7 ms of the ~0.9 ms Django took to compile a
# page's query, on every request; as fixed text it is pasted in.
_JSON_ROWS = {
    "flags": (
        (
            "SELECT JSONB_AGG(JSONB_BUILD_OBJECT('id', f.id, 'sign', f.sign,"
            " 'category', f.category, 'raised_on', f.raised_on, 'raised_at', f.raised_at))"
            " FROM episodes_redflag f"
            " WHERE f.status = %s AND f.episode_id = episodes_episode.id GROUP BY f.episode_id"
        ),
        (RedFlagStatus.ACTIVE.value,),
    ),
    "studies": (
        (
            "SELECT JSONB_AGG(JSONB_BUILD_OBJECT('id', s.id, 'modality', s.modality,"
            " 'performed_on', s.performed_on, 'nerve_root_compression', s.nerve_root_compression,"
            " 'clinically_correlated', s.clinically_correlated, 'level', s.level))"
            " FROM episodes_imagingstudy s"
            " WHERE s.episode_id = episodes_episode.id GROUP BY s.episode_id"
        ),
        (),
    ),
}

# What a queue row reads: the summary's columns, what careflow's facts need, the patient's
# name and zone, and every queue's ordering columns (the keyset cursor is built from them).
ROW_COLUMNS = (
    "id",
    "patient_id",
    "care_team_id",
    "assigned_to_id",
    "state",
    "version",
    "facts",
    "symptom_onset",
    "conservative_care_start",
    "enrolled_on",
    "disabling_pain_recorded_on",
    "neurological_deficit_recorded_on",
    "last_assessment_on",
    "education_recorded",
    "referral_made_on",
    "referral_made_at",
    "resolution_reported_on",
    "surgical_review_urgent",
    "report_review_since",
    "report_review_rule",
    "next_deadline",
    "next_deadline_rule",
    "reassessment_due_on",
    "urgent_rank",
    "urgent_since",
    "unread_reply_since",
    "pressing_rank",
    "pressing_deadline",
)


_EPISODE = '"episodes_episode"'
_PATIENT_COLUMNS = {
    "given_name": "given_name",
    "family_name": "family_name",
    "birth_date": "birth_date",
    "zone": "timezone",
}


@cache
def _select(
    extra: tuple[tuple[str, str], ...] = (),
) -> tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]:
    """The SELECT … FROM … JOIN text, its parameters, and each column's converters.

    Built once per queue's ``extra`` columns from ROW_COLUMNS, the patient's columns and
    ``_JSON_ROWS``; the converters are Django's for each field (JSON decoded).
    """
    episode, patient = Episode._meta, Patient._meta  # noqa: SLF001 - Django's public _meta API
    columns, converted = [], []
    for name in ROW_COLUMNS:
        field = episode.get_field(name)
        columns.append(f'{_EPISODE}."{field.column}" AS "{name}"')
        converted.append((name, field))
    for name, attribute in _PATIENT_COLUMNS.items():
        field = patient.get_field(attribute)
        columns.append(f'"episodes_patient"."{field.column}" AS "{name}"')
        converted.append((name, field))
    params: list[Any] = []
    for name, (sql, more) in _JSON_ROWS.items():
        columns.append(f'({sql}) AS "{name}"')
        params.extend(more)
        converted.append((name, JSONField()))
    for name, sql in extra:
        columns.append(f'({sql}) AS "{name}"')
        converted.append((name, JSONField()))
    text = (
        f'SELECT {", ".join(columns)} FROM {_EPISODE} INNER JOIN "episodes_patient"'  # noqa: S608 - fixed text, built once from the model's columns
        f' ON ({_EPISODE}."patient_id" = "episodes_patient"."id")'
    )
    converters = tuple(
        (name, tuple(field.get_db_converters(connection)))  # type: ignore[arg-type]
        for name, field in converted
    )
    return text, tuple(params), tuple((name, c) for name, c in converters if c)


@dataclass(frozen=True, slots=True)
class RowFilters:
    """A page's filters beyond its queue (the workspace's): each one condition in the statement.

    ``words``: every word somewhere in the patient's name, accents and case ignored
    (``search.name_words_sql``); ``born``: the patient's date of birth;
    ``urgent_rank_below``: the urgent queue's rows ranked before it (careflow.urgency:
    ``ACTED_ON_RANK``, the ones nobody has acted on yet).
    """

    assigned_to: int | None = None
    unassigned: bool = False
    state: str | None = None
    words: tuple[str, ...] = ()
    born: date | None = None
    urgent_rank_below: int | None = None

    @property
    def reads_patient(self) -> bool:
        """Whether a condition is on the patient's columns (the count joins them only then)."""
        return bool(self.words) or self.born is not None

    def sql(self) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if self.assigned_to is not None:
            where.append(f'{_EPISODE}."assigned_to_id" = %s')
            args.append(self.assigned_to)
        if self.unassigned:
            where.append(f'{_EPISODE}."assigned_to_id" IS NULL')
        if self.state is not None:
            where.append(f'{_EPISODE}."state" = %s')
            args.append(self.state)
        more_where, more_args = name_words_sql(self.words)
        where.extend(more_where)
        args.extend(more_args)
        if self.born is not None:
            where.append('"episodes_patient"."birth_date" = %s')
            args.append(self.born)
        if self.urgent_rank_below is not None:
            where.append(f'{_EPISODE}."urgent_rank" < %s')
            args.append(self.urgent_rank_below)
        return where, args


# The other orders a queue page can be read in (the workspace's "Sort by"), beside each
# queue's own (most pressing first): ascending, on columns that are never NULL, ending in
# id, so a page is one keyset range (docs/decisions/0004). Each is a range of a per-team
# index (``episode_team_onset``, ``episode_team_care_start``), which PostgreSQL reads from
# the cursor, checking the queue's condition on each entry, or, for a queue far smaller
# than the team, reads the queue's own index and sorts its rows (tests/api/
# test_queue_sort_plans.py).
SORTS: Final = {
    # Longest since the symptoms began first.
    "onset": ("symptom_onset", "id"),
    # Longest in conservative care first.
    "care": ("conservative_care_start", "id"),
}


def _team(user: User) -> tuple[list[str], list[Any]] | None:
    """The user's teams as a condition (``episode_list_for``'s); None: no team, no rows."""
    if user.is_superuser:
        return [], []
    teams = team_id_list(user)
    if not teams:
        return None
    if len(teams) == 1:
        return [f'{_EPISODE}."care_team_id" = %s'], list(teams)
    return [f'{_EPISODE}."care_team_id" IN ({", ".join(["%s"] * len(teams))})'], list(teams)


def _read(sql: str, args: list[Any], converters: tuple[tuple[str, Any], ...]) -> list[dict]:
    with prepared_cursor() as cursor:
        cursor.execute(sql, args)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for column, functions in converters:
            for convert in functions:
                row[column] = convert(row[column], None, connection)
    return rows


def _conditions(
    name: str, user: User, now: datetime, filters: RowFilters | None
) -> tuple[list[str], list[Any]] | None:
    """The team, the queue's ``where`` and the page's filters; None: no team, no rows."""
    queue = queue_get(name)
    team = _team(user)
    if team is None:
        return None
    where, args = list(team[0]), list(team[1])
    condition, more = queue.where(user, now)
    where.append(condition)
    args.extend(more)
    more_where, more_args = (filters or RowFilters()).sql()
    where.extend(more_where)
    args.extend(more_args)
    return where, args


def queue_page_rows(
    name: str,
    position: list[Any] | None,
    *,
    user: User,
    now: datetime,
    before: bool,
    limit: int,
    filters: RowFilters | None = None,
    ordering: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows of a queue after (or ``before``) the keyset ``position``.

    404 for an unknown queue. ``position``: the values of the ordering's columns, as
    the pagination decoded them (``KeysetPagination.paginate_rows``); backward pages come
    in reverse order. ``ordering``: the queue's own (None) or one of ``SORTS``.
    """
    queue = queue_get(name)
    found = _conditions(name, user, now, filters)
    if found is None:
        return []
    where, args = found
    select, params, converters = _select(queue.columns)
    args = [*params, *args]
    fields = [Episode._meta.get_field(column) for column in ordering or queue.ordering]  # noqa: SLF001
    columns = [f'{_EPISODE}."{field.column}"' for field in fields]
    if position is not None:
        # One row comparison and the first column's plain bound (docs/decisions/0004).
        values = [f.get_db_prep_value(v, connection) for f, v in zip(fields, position, strict=True)]
        op = "<" if before else ">"
        if len(columns) == 1:
            where.append(f"{columns[0]} {op} %s")
            args.append(values[0])
        else:
            where.append(
                f"({', '.join(columns)}) {op} ({', '.join(['%s'] * len(values))})"
                f" AND {columns[0]} {op}= %s"
            )
            args.extend([*values, values[0]])
    order = ", ".join(f"{column} {'DESC' if before else 'ASC'}" for column in columns)
    sql = f"{select} WHERE {' AND '.join(f'({w})' for w in where)} ORDER BY {order} LIMIT %s"
    args.append(limit)
    return _read(sql, args, converters)


def _count_sql(
    name: str,
    where: list[str],
    args: list[Any],
    *,
    join: str,
    at_most: int | None,
    ordering: tuple[str, ...] | None,
) -> tuple[str, list[Any]]:
    condition = " AND ".join(f"({w})" for w in where)
    if at_most is None:
        return f"SELECT COUNT(*) FROM {_EPISODE}{join} WHERE {condition}", args  # noqa: S608 - fixed text, values are parameters
    order = ", ".join(
        f'{_EPISODE}."{Episode._meta.get_field(c).column}"'  # noqa: SLF001 - Django's public _meta API
        for c in ordering or queue_get(name).ordering
    )
    sql = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {_EPISODE}{join} WHERE {condition}"  # noqa: S608 - fixed text
        f" ORDER BY {order} LIMIT %s) AS counted"
    )
    return sql, [*args, at_most + 1]


def queue_page_count(
    name: str,
    *,
    user: User,
    now: datetime,
    filters: RowFilters | None = None,
    at_most: int | None = None,
    ordering: tuple[str, ...] | None = None,
) -> int:
    """How many rows the queue's pages hold with these filters (the pages' own conditions).

    ``at_most``: count no further than one beyond it (a page's "more than 100"), reading
    the first rows of the queue in the page's ``ordering`` (the queue's own by default),
    as the page itself does: an exact count of a large queue at 1M reads tens of
    thousands of rows, this a hundred.
    """
    found = _conditions(name, user, now, filters)
    if found is None:
        return 0
    join = (
        f' INNER JOIN "episodes_patient" ON ({_EPISODE}."patient_id" = "episodes_patient"."id")'
        if filters is not None and filters.reads_patient
        else ""
    )
    sql, args = _count_sql(name, *found, join=join, at_most=at_most, ordering=ordering)
    with prepared_cursor() as cursor:
        cursor.execute(sql, args)
        return int(cursor.fetchone()[0])


def queue_counts_up_to(
    *, user: User, now: datetime, at_most: int, exact: frozenset[str] = frozenset()
) -> dict[str, int]:
    """Every queue's size for this user, counted up to ``at_most`` + 1, in one statement.

    The queues in ``exact`` are counted whole. Each count is the queue's own condition
    read in its own order (``queue_page_count``), so none reads more than a page's worth
    of index entries: the board's counts at 1M, where one aggregate over a team's
    episodes read all of them.
    """
    parts, args = [], []
    if not user.is_superuser:
        remember_team_ids(user, team_id_list(user))  # read once, for every queue's condition
    for name in QUEUES:
        found = _conditions(name, user, now, None)
        if found is None:
            return dict.fromkeys(QUEUES, 0)
        sql, more = _count_sql(
            name, *found, join="", at_most=None if name in exact else at_most, ordering=None
        )
        parts.append(f'({sql}) AS "{name}"')
        args.extend(more)
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", args)
        row = cursor.fetchone()
    return {name: int(value) for name, value in zip(QUEUES, row, strict=True)}


def episode_row(user: User, episode_id: int, *, queue: str | None = None) -> dict | None:
    """One of the user's episodes as a queue row (with ``queue``'s own columns), or None.

    A row of a page drawn again after a change (the workspace's Take and Assign): in or out
    of the queue now, the row is the same statement's.
    """
    team = _team(user)
    if team is None:
        return None
    select, params, converters = _select(queue_get(queue).columns if queue else ())
    where, args = [*team[0], f'{_EPISODE}."id" = %s'], [*params, *team[1], episode_id]
    rows = _read(f"{select} WHERE {' AND '.join(f'({w})' for w in where)}", args, converters)
    return rows[0] if rows else None


def _day(value: Any) -> date:  # noqa: ANN401 - a date, or its ISO text from JSON
    return value if isinstance(value, date) else date.fromisoformat(value)


def _moment(value: Any) -> datetime:  # noqa: ANN401 - an aware datetime, or its ISO text from JSON
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def row_flags(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The row's active red flags in the model's order (raised_at, id)."""
    return sorted(row["flags"] or (), key=lambda f: (str(f["raised_at"]), f["id"]))


def row_facts(row: Mapping[str, Any], flags: Iterable[Mapping[str, Any]]) -> Facts:
    """The facts the guards evaluate, from a queue row (as ``episode_facts`` from a model)."""
    current = row["facts"] or {}
    studies = sorted(row["studies"] or (), key=lambda s: (str(s["performed_on"]), s["id"]))
    return Facts(
        symptom_onset=row["symptom_onset"],
        conservative_care_start=row["conservative_care_start"],
        birth_date=row["birth_date"],
        **{name: bool(current.get(name, False)) for name in BOOLEAN_FACTS},
        disabling_pain_recorded_on=row["disabling_pain_recorded_on"],
        neurological_deficit_recorded_on=row["neurological_deficit_recorded_on"],
        active_red_flags=tuple(
            RedFlagFact(
                sign=f["sign"], raised_on=_day(f["raised_on"]), raised_at=_moment(f["raised_at"])
            )
            for f in flags
        ),
        imaging=tuple(
            ImagingFinding(
                modality=s["modality"],
                performed_on=_day(s["performed_on"]),
                nerve_root_compression=bool(s["nerve_root_compression"]),
                clinically_correlated=bool(s["clinically_correlated"]),
                level=s["level"],
            )
            for s in studies
        ),
        referral_made_on=row["referral_made_on"],
        referral_made_at=row["referral_made_at"],
        education_recorded=row["education_recorded"],
        last_assessment_on=row["last_assessment_on"],
        enrolled_on=row["enrolled_on"],
        resolution_reported_on=row["resolution_reported_on"],
        surgical_review_urgent=row["surgical_review_urgent"],
        unreviewed_report_on=local_date(row["report_review_since"], row["zone"]),
        unreviewed_report_rule=row["report_review_rule"],
    )


def row_today(row: Mapping[str, Any], now: datetime | None = None) -> date:
    """The patient's local date (PATHWAY.md "Day arithmetic"), as ``patient_today``."""
    return (now or timezone.now()).astimezone(ZoneInfo(row["zone"])).date()


def row_next_action(state: str, facts: Facts, today: date) -> dict[str, str] | None:
    """The most pressing next action (careflow's order), as ``episode_next_action``."""
    actions = next_actions(State(state), facts, today)
    return actions[0].as_dict() if actions else None
