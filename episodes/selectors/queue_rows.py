"""A queue page as plain rows: one query, red flags and imaging aggregated in SQL (issue 16).

The queue pages are the hottest reads. Through model instances a page cost three queries
(the page, then red flags and imaging prefetched) and most of its time in Python: building
a related manager and queryset per episode for the prefetch, then a serializer per row.
Here the page is one ``values()`` query on the same queue queryset (the same team filter,
condition and order, so the same authorisation and the same keyset pagination), with each
episode's active red flags and imaging studies as a JSON array beside its columns; the
facts careflow reads are built from the row, and the next action is careflow's, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, JSONField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from careflow.deadlines import next_actions
from careflow.facts import BOOLEAN_FACTS, Facts, ImagingFinding
from careflow.redflags import RedFlag as RedFlagFact
from careflow.states import State
from episodes.models import Episode, Patient, RedFlagStatus
from episodes.selectors.access import episode_list_for, team_id_list
from episodes.selectors.pathway import local_date
from episodes.selectors.queues import queue_episodes, queue_get
from infra.db import prepared_cursor

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser


# Each episode's active red flags and imaging studies as a JSON array beside its columns
# (NULL when it has none): a correlated subquery on the row's episode, written out as SQL.
# Built by the ORM (``Subquery`` of ``JSONObject``s) it cost ~0.7 ms of the ~0.9 ms Django
# took to compile a page's query, on every request (issue 16); as a fixed fragment it is
# pasted in. ``{agg}``/``{obj}``: JSONB_AGG/JSONB_BUILD_OBJECT on PostgreSQL,
# JSON_GROUP_ARRAY/JSON_OBJECT on SQLite (what Django's own JSONObject compiles to there).
_JSON_ROWS = {
    "flags": (
        (
            "SELECT {agg}({obj}('id', f.id, 'sign', f.sign, 'category', f.category,"
            " 'raised_on', f.raised_on, 'raised_at', f.raised_at))"
            " FROM episodes_redflag f"
            " WHERE f.status = %s AND f.episode_id = episodes_episode.id GROUP BY f.episode_id"
        ),
        (RedFlagStatus.ACTIVE.value,),
    ),
    "studies": (
        (
            "SELECT {agg}({obj}('id', s.id, 'modality', s.modality, 'performed_on',"
            " s.performed_on, 'nerve_root_compression', s.nerve_root_compression,"
            " 'clinically_correlated', s.clinically_correlated, 'level', s.level))"
            " FROM episodes_imagingstudy s"
            " WHERE s.episode_id = episodes_episode.id GROUP BY s.episode_id"
        ),
        (),
    ),
}
_JSON_FUNCTIONS = {
    "postgresql": {"agg": "JSONB_AGG", "obj": "JSONB_BUILD_OBJECT"},
    "sqlite": {"agg": "JSON_GROUP_ARRAY", "obj": "JSON_OBJECT"},
}


def _json_rows(name: str) -> RawSQL:
    sql, params = _JSON_ROWS[name]
    sql = sql.format(**_JSON_FUNCTIONS[connection.vendor])
    return RawSQL(sql, params, JSONField())  # noqa: S611 - fixed text; the status is a parameter


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
)


@cache
def _rows() -> QuerySet[Any]:
    """Every episode as a queue row; built once, so a page only adds its filters and order.

    Resolving the values() list was much of the time Django spent building a page's query
    (py-spy, issue 16); a clone of this shares it. The JSON arrays are ``_JSON_ROWS``.
    """
    return Episode.objects.values(
        *ROW_COLUMNS,
        given_name=F("patient__given_name"),
        family_name=F("patient__family_name"),
        birth_date=F("patient__birth_date"),
        zone=F("patient__timezone"),
        flags=_json_rows("flags"),
        studies=_json_rows("studies"),
    )


def _with_columns(rows: QuerySet[Any], columns: tuple[tuple[str, str], ...]) -> QuerySet[Any]:
    """The rows with a queue's own columns (``Queue.columns``) beside every row's."""
    functions = _JSON_FUNCTIONS[connection.vendor]
    return rows.annotate(
        **{
            name: RawSQL(sql.format(**functions), (), JSONField())  # noqa: S611 - fixed text
            for name, sql in columns
        }
    )


def episode_rows_for(user: User, *, queue: str | None = None) -> QuerySet[Any]:
    """The user's episodes as rows (``episode_list_for``'s team filter): one query a page.

    Each row carries its columns, the patient's name, birth date and zone, and ``flags``
    (active red flags) and ``studies`` (imaging) as JSON arrays; with ``queue``, that
    queue's own columns too (a row of its page drawn again).
    """
    rows = _rows() if queue is None else _with_columns(_rows(), queue_get(queue).columns)
    return episode_list_for(user, rows)


def queue_rows(name: str, *, user: User, now: datetime | None = None) -> QuerySet[Any]:
    """One queue's episodes as rows, most pressing first; 404 for an unknown name.

    ``queue_episodes`` (the same team filter, condition and order, so the same
    authorisation and keyset pagination) read as ``episode_rows_for``'s rows, with the
    queue's own columns.
    """
    columns = queue_get(name).columns
    rows = _with_columns(_rows(), columns) if columns else _rows()
    return queue_episodes(name, user=user, now=now, episodes=rows)


# -- the page's statement written by hand (PostgreSQL; issue 16, fifth part) -------------------
#
# Compiling a page's queryset was ~20 % of a page's CPU (SQLCompiler.as_sql and
# pre_sql_setup, cProfile of 400 pages), on every request. On PostgreSQL the page is this
# text instead: the same SELECT list as ``_rows()``, the team filter as ``episode_list_for``,
# the queue's condition as its ``Queue.sql`` (written beside its Q), the keyset condition as
# ``KeysetPagination._beyond`` builds it, the queue's order. SQLite keeps the ORM path.

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

    Built once (per queue's ``extra`` columns) from ROW_COLUMNS and the fragments
    ``_rows()`` reads, so the two select the same; the converters are the ones ``values()``
    applies (JSON decoded).
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
    functions = _JSON_FUNCTIONS["postgresql"]
    for name, (sql, more) in _JSON_ROWS.items():
        columns.append(f'({sql.format(**functions)}) AS "{name}"')
        params.extend(more)
        converted.append((name, JSONField()))
    for name, sql in extra:
        columns.append(f'({sql.format(**functions)}) AS "{name}"')
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


def queue_page_sql_available() -> bool:
    """Whether queue pages read through ``queue_page_rows`` (PostgreSQL) or the ORM."""
    return connection.vendor == "postgresql"


def queue_page_rows(
    name: str,
    position: list[Any] | None,
    *,
    user: User,
    now: datetime,
    before: bool,
    limit: int,
    assigned_to: int | None = None,
    unassigned: bool = False,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows of a queue after (or ``before``) the keyset ``position``.

    The rows ``queue_rows(name, …)`` filtered by ``KeysetPagination`` reads, as the same
    dicts, in one hand-written statement (PostgreSQL). ``position``: the values of the
    queue's ordering columns, as the pagination decoded them; backward pages come in
    reverse order, as the ORM path's do. The workspace's filters, as its ORM path's
    ``filter()``: ``assigned_to`` (a user's id), ``unassigned``, ``state``.
    """
    queue = queue_get(name)
    select, params, converters = _select(queue.columns)
    where, args = [], list(params)
    if not user.is_superuser:
        teams = team_id_list(user)
        if not teams:
            return []  # the ORM's IN () answers nothing without asking
        if len(teams) == 1:
            where.append(f'{_EPISODE}."care_team_id" = %s')
        else:
            where.append(f'{_EPISODE}."care_team_id" IN ({", ".join(["%s"] * len(teams))})')
        args.extend(teams)
    condition, more = queue.sql(user, now)
    where.append(condition)
    args.extend(more)
    more_where, more = _filters(assigned_to=assigned_to, unassigned=unassigned, state=state)
    where.extend(more_where)
    args.extend(more)
    fields = [Episode._meta.get_field(column) for column in queue.ordering]  # noqa: SLF001
    columns = [f'{_EPISODE}."{field.column}"' for field in fields]
    if position is not None:
        # As KeysetPagination._beyond: one row comparison and the first column's plain bound.
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
    with prepared_cursor() as cursor:
        cursor.execute(sql, args)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for column, functions in converters:
            for convert in functions:
                row[column] = convert(row[column], None, connection)
    return rows


def _filters(
    *, assigned_to: int | None, unassigned: bool, state: str | None
) -> tuple[list[str], list[Any]]:
    """The workspace's filters as conditions and their parameters (``queue_page_rows``)."""
    where: list[str] = []
    args: list[Any] = []
    if assigned_to is not None:
        where.append(f'{_EPISODE}."assigned_to_id" = %s')
        args.append(assigned_to)
    if unassigned:
        where.append(f'{_EPISODE}."assigned_to_id" IS NULL')
    if state is not None:
        where.append(f'{_EPISODE}."state" = %s')
        args.append(state)
    return where, args


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
