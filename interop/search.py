"""Search parameters as FHIR defines them, parsed once for every search of the facade.

Each search names the parameters it takes (``interop.capability.SEARCH_PARAMS``); any other
is a 400 naming it, never ignored. A ``POST <type>/_search`` takes them from its form body
and its query string together. Values: comma lists are "any of" (``status=active,finished``);
dates take FHIR's prefixes ``eq lt le gt ge`` and any precision (``1984``, ``1984-05``,
``1984-05-02``; ``_lastUpdated`` an instant too), a partial date standing for its whole
range, so ``birthdate=1984`` is every day of 1984 and ``gt1984`` starts in 1985.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from django.db.models import Q
from rest_framework import exceptions
from rest_framework.request import Request

from episodes.selectors import MAX_ID
from interop.paging import CURSOR, SEARCH_ID, saved_search

# Parameters every search takes besides its own: paging, and _format (JSON only: another
# format is a 406, checked for every request of the facade in FhirApi).
COMMON: Final = frozenset({"_count", "_format", CURSOR, SEARCH_ID})
# The result parameters: a search that serves them names them among its own and checks
# their values with ``result``; to any other they are unknown, a 400.
RESULT: Final = frozenset(
    {"_summary", "_total", "_totalMethod", "_elements", "_sort", "_include", "_revinclude"}
)
# FHIR clients repeat these (``_include=A&_include=B``); they are kept as one comma list.
REPEATABLE: Final = frozenset({"_include", "_revinclude"})
JSON_FORMATS: Final = frozenset(
    {"json", "application/json", "application/fhir+json", "application/json+fhir"}
)
MAX_LIST: Final = 100  # values in one comma list


def invalid(message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError(message)


def params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The search's parameters, each once; an unknown one is a 400 naming it.

    ``GET`` takes them from the query string; ``POST <type>/_search`` from a form body
    (which keeps names and birth dates out of web-server access logs) and its query string.
    """
    sources = [request.query_params]
    if request.method == "POST":
        sources.append(request.data)
    out: dict[str, str] = {}
    unknown = sorted({name for source in sources for name in source} - {*allowed, *COMMON})
    if unknown:
        names = ", ".join(unknown)
        msg = f"unsupported search parameter{'s' if len(unknown) > 1 else ''}: {names}"
        raise invalid(msg)
    for source in sources:
        for name in source:
            values = source.getlist(name)
            if name in REPEATABLE and values:
                values = [",".join([*([out.pop(name)] if name in out else []), *values])]
            if len(values) != 1 or name in out:
                msg = f"give {name} once (a comma list is any of its values)"
                raise invalid(msg)
            if "\x00" in values[0]:  # PostgreSQL's text holds no NUL: no value can match it
                msg = f"{name} holds a NUL character"
                raise invalid(msg)
            out[name] = values[0]
    if SEARCH_ID in out:  # the next page of a POST _search: its parameters were saved
        out = {**saved_search(request, out[SEARCH_ID]), **out}
    return out


def values(found: dict[str, str], name: str) -> list[str] | None:
    """A comma list's values (FHIR: any of them); None when the parameter is absent."""
    raw = found.get(name)
    if raw is None:
        return None
    items = [item.strip() for item in raw.split(",")]
    if not all(items) or len(items) > MAX_LIST:
        msg = f"{name}: a comma-separated list of up to {MAX_LIST} values, none empty"
        raise invalid(msg)
    return items


def codes(found: dict[str, str], name: str, value_set: tuple[str, ...]) -> set[str] | None:
    """A token list, each a code of ``value_set`` (FHIR's); any other code is a 400."""
    items = values(found, name)
    if items is None:
        return None
    wrong = [item for item in items if item not in value_set]
    if wrong:
        msg = f"{name}: {', '.join(wrong)} is not a code of {', '.join(value_set)}"
        raise invalid(msg)
    return set(items)


def ids(found: dict[str, str]) -> list[int] | None:
    """``_id`` of a resource whose id is a row id: ids that cannot be one match nothing."""
    items = values(found, "_id")
    if items is None:
        return None
    return [int(i) for i in items if i.isascii() and i.isdigit() and 0 < int(i) <= MAX_ID]


def patients(found: dict[str, str]) -> list[int] | None:
    items = values(found, "patient")
    if items is None:
        return None
    out = []
    for item in items:
        number = item.removeprefix("Patient/")
        if not (number.isascii() and number.isdigit()) or not 0 < int(number) <= MAX_ID:
            msg = "patient: a Patient id (12 or Patient/12), or a comma list of them"
            raise invalid(msg)
        out.append(int(number))
    return out


# -- dates ------------------------------------------------------------------------------------

PREFIXES: Final = ("eq", "lt", "le", "gt", "ge")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?P<seconds>:\d{2}(?P<fraction>\.\d{1,6})?)?"
    r"(?:Z|[+-]\d{2}:\d{2})"
)


@dataclass(frozen=True, slots=True)
class Range:
    """A search date: its prefix and the half-open range [start, end) its precision names."""

    prefix: str
    start: Any  # a date, or an aware datetime for instants
    end: Any

    def q(self, field: str) -> Q:
        return {
            "eq": Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end}),
            "lt": Q(**{f"{field}__lt": self.start}),
            "le": Q(**{f"{field}__lt": self.end}),
            "gt": Q(**{f"{field}__gte": self.end}),
            "ge": Q(**{f"{field}__gte": self.start}),
        }[self.prefix]

    def holds(self, value: Any) -> bool:  # noqa: ANN401 - a date or datetime like start's
        return {
            "eq": self.start <= value < self.end,
            "lt": value < self.start,
            "le": value < self.end,
            "gt": value >= self.end,
            "ge": value >= self.start,
        }[self.prefix]


def _day_range(match: re.Match[str]) -> tuple[date, date]:
    year, month, day = int(match[1]), match[2], match[3]
    if month is None:
        return date(year, 1, 1), date(year + 1, 1, 1)
    if day is None:
        start = date(year, int(month), 1)
        following = date(year + 1, 1, 1) if start.month == 12 else date(year, start.month + 1, 1)  # noqa: PLR2004
        return start, following
    start = date(year, int(month), int(day))
    return start, start + timedelta(days=1)


def date_range(name: str, value: str, *, instants: bool = False) -> Range:
    """``[prefix]YYYY[-MM[-DD]]`` (with ``instants``: or an instant with its zone)."""
    prefix, rest = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
    try:
        day = _DATE.fullmatch(rest)
        if day is not None:
            start, end = _day_range(day)
            if instants:  # a date of _lastUpdated: its UTC day
                return Range(
                    prefix,
                    datetime(start.year, start.month, start.day, tzinfo=UTC),
                    datetime(end.year, end.month, end.day, tzinfo=UTC),
                )
            return Range(prefix, start, end)
        moment = _INSTANT.fullmatch(rest) if instants else None
        if moment is not None:
            at = datetime.fromisoformat(rest)
            if moment["fraction"]:
                step = timedelta(microseconds=1)
            elif moment["seconds"]:
                step = timedelta(seconds=1)
            else:
                step = timedelta(minutes=1)
            return Range(prefix, at, at + step)
    except (ValueError, OverflowError):
        pass
    what = "a date (YYYY, YYYY-MM or YYYY-MM-DD"
    what += ", or an instant with its time zone such as 2026-12-01T09:30:00Z)" if instants else ")"
    msg = f"{name}: {what}, optionally after eq, lt, le, gt or ge"
    raise invalid(msg)


def last_updated(found: dict[str, str], field: str) -> Q | None:
    value = found.get("_lastUpdated")
    return None if value is None else date_range("_lastUpdated", value, instants=True).q(field)


# -- tokens and references ----------------------------------------------------------------------


def tokens(found: dict[str, str], name: str, *systems: str) -> set[str] | None:
    """A token list (``code`` or ``system|code``).

    A code of a system other than ``systems`` matches nothing (careflow holds none).
    """
    items = values(found, name)
    if items is None:
        return None
    out = set()
    for item in items:
        named, bar, code = item.partition("|")
        if not bar:
            out.add(named)
        elif named in systems:
            out.add(code)
    return out


def references(found: dict[str, str], name: str, resource_type: str) -> list[int] | None:
    """A reference list (``12`` or ``<type>/12``) to resources whose ids are row ids."""
    items = values(found, name)
    if items is None:
        return None
    out = []
    for item in items:
        number = item.removeprefix(f"{resource_type}/")
        if not (number.isascii() and number.isdigit()) or not 0 < int(number) <= MAX_ID:
            msg = f"{name}: an {resource_type} id (12 or {resource_type}/12), or a comma list"
            raise invalid(msg)
        out.append(int(number))
    return out


def date_q(found: dict[str, str], name: str, field: str, *, instants: bool = False) -> Q | None:
    value = found.get(name)
    return None if value is None else date_range(name, value, instants=instants).q(field)


# -- result parameters: _summary, _total, _elements, _sort, _include, _revinclude -------------

TOTALS: Final = ("none", "estimate", "accurate")
_ELEMENT = re.compile(r"[a-z][A-Za-z0-9]{0,63}")


@dataclass(frozen=True, slots=True)
class Result:
    """What a search's result parameters ask of its Bundle."""

    count_only: bool  # _summary=count: the total, no entries
    total: str  # "bounded" (no _total), or one of TOTALS
    elements: frozenset[str] | None  # _elements: the top-level elements kept
    sort: tuple[str, bool] | None  # _sort: (parameter name, descending)
    include: tuple[str, ...]  # _include values, each "<type>:<parameter>"
    revinclude: tuple[str, ...]


def result(
    found: dict[str, str],
    *,
    sorts: tuple[str, ...] = (),
    includes: tuple[str, ...] = (),
    revincludes: tuple[str, ...] = (),
    counts: bool = True,
) -> Result:
    """The result parameters, each checked against what this search serves (a 400 naming it)."""
    summary = found.get("_summary", "false")
    if found.get("_count") == "0":  # FHIR: _count=0 asks for the total alone
        summary = "count" if summary in ("count", "false") else summary
    if summary not in ("count", "false") or (summary == "count" and not counts):
        offered = "count or false" if counts else "false (this search cannot count its matches)"
        asked = "_count: 0 (the total alone)" if "_summary" not in found else f"_summary: {summary}"
        msg = f"{asked} is not served; {offered}"
        raise invalid(msg)
    total = found.get("_total", "bounded")
    if total not in (*TOTALS, "bounded") or (total != "none" and "_total" in found and not counts):
        offered = ", ".join(TOTALS) if counts else "none (this search cannot count its matches)"
        msg = f"_total: {total} is not served; {offered}"
        raise invalid(msg)
    # HAPI's name for _total (fhirpy's count() sends _totalMethod=count): the same, counted.
    method = found.get("_totalMethod")
    if method is not None:
        if method not in ("count", "estimate") or not counts:
            msg = f"_totalMethod: {method} is not served; _total names what is"
            raise invalid(msg)
        total = "accurate"
    elements = values(found, "_elements")
    if elements is not None and not all(_ELEMENT.fullmatch(e) for e in elements):
        msg = "_elements: a comma list of top-level element names (such as status,subject)"
        raise invalid(msg)
    sort = None
    if "_sort" in found:
        raw = found["_sort"]
        name = raw.removeprefix("-")
        if name not in sorts:
            offered = ", ".join(f"{s}, -{s}" for s in sorts) or "none"
            msg = f"_sort: {raw} is not served here; this search sorts by {offered}"
            raise invalid(msg)
        sort = (name, raw.startswith("-"))
    return Result(
        count_only=summary == "count",
        total=total,
        elements=None if elements is None else frozenset(elements),
        sort=sort,
        include=_includes(found, "_include", includes),
        revinclude=_includes(found, "_revinclude", revincludes),
    )


def _includes(found: dict[str, str], name: str, served: tuple[str, ...]) -> tuple[str, ...]:
    asked = values(found, name)
    if asked is None:
        return ()
    wrong = [a for a in asked if a not in served]
    if wrong:
        offered = ", ".join(served) or "none"
        msg = f"{name}: {', '.join(wrong)} is not served here; this search includes {offered}"
        raise invalid(msg)
    return tuple(dict.fromkeys(asked))
