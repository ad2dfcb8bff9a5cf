"""Paging of the facade's searchsets: ``_count`` and opaque ``_cursor`` links, keyset-stable.

A page is never an OFFSET: the ``next`` link carries the sort key of the page's last entry
and the next page starts strictly after it (``previous``: the first entry's, strictly
before), so a row inserted or deleted between two pages neither repeats nor skips another,
and page 10,000 reads as many index entries as page 1. Rows come from the database in a
keyset order (``keyset_rows``, the API's row comparison, ``api.pagination.RowCompare``);
resources computed in memory ($everything, Task, Questionnaire) are ordered by a sort key
of their own and paged the same way (``page_of``).

The cursor is base64url JSON: the direction and the key's values as strings. A cursor that
does not decode, or does not fit the search it is given to, is a 400 naming ``_cursor``.
"""

from __future__ import annotations

import binascii
import json
import re
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, QuerySet, Value
from rest_framework import exceptions
from rest_framework.request import Request

from api.pagination import RowCompare
from episodes.selectors import MAX_ID

T = TypeVar("T")

# _count: how many entries a page holds. The default is what a client that names none gets;
# the maximum bounds one response (a page of 1,000 Patients is about 1 MB of JSON).
DEFAULT_COUNT: Final = 100
MAX_COUNT: Final = 1000
CURSOR: Final = "_cursor"
# Bundle.total is given while the matches are at most this many; beyond, it is left out
# (FHIR makes it optional). Counting a care team's 100,000 patients at 1M was 103 ms, the
# whole cost of a page; counting up to this bound is a few ms at most.
TOTAL_LIMIT: Final = 10_000
FORWARD: Final = "n"
BACKWARD: Final = "p"


@dataclass(frozen=True, slots=True)
class Cursor:
    backward: bool
    key: list[str]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page: its rows in order, and the keys its ``next``/``previous`` links start from."""

    rows: list[T]
    next_key: list[str] | None
    previous_key: list[str] | None


def invalid_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        f"{CURSOR}: not a cursor of this search; follow the next or previous link as given"
    )


def encode(*, backward: bool, key: Sequence[str]) -> str:
    raw = json.dumps(
        {"d": BACKWARD if backward else FORWARD, "k": list(key)}, separators=(",", ":")
    )
    return urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(value: str | None, *, length: int) -> Cursor | None:
    """The cursor given, checked to hold ``length`` strings; None when there is none."""
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,2000}", value):
        raise invalid_cursor()
    try:
        raw = json.loads(urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        direction, key = raw["d"], raw["k"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    if (
        direction not in (FORWARD, BACKWARD)
        or not isinstance(key, list)
        or len(key) != length
        or not all(isinstance(part, str) and len(part) <= 100 for part in key)  # noqa: PLR2004
    ):
        raise invalid_cursor()
    return Cursor(backward=direction == BACKWARD, key=key)


def total_of(queryset: QuerySet[Any]) -> int | None:
    """The number of matches, if at most TOTAL_LIMIT (one bounded count), else None."""
    found = queryset.order_by()[: TOTAL_LIMIT + 1].count()
    return found if found <= TOTAL_LIMIT else None


def count_param(params: dict[str, str]) -> int:
    value = params.get("_count", str(DEFAULT_COUNT))
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_COUNT:
        msg = f"_count: a whole number from 1 to {MAX_COUNT} (0: the total alone)"
        raise exceptions.ValidationError(msg)
    return int(value)


# -- rows from the database -------------------------------------------------------------------


def keyset_rows(
    queryset: QuerySet[Any], ordering: tuple[str, ...], cursor: Cursor | None, count: int
) -> Page[Any]:
    """A page of ``queryset`` in ``ordering``, its last field unique.

    All ascending, or all descending with a ``-`` each (``_sort=-_lastUpdated``).

    One ``WHERE (a, id) > (x, y) ORDER BY a, id LIMIT count + 1`` (the extra row says
    whether there is a next page), as ``api.pagination.KeysetPagination`` reads the queues.
    """
    model = queryset.model
    descending = ordering[0].startswith("-")
    ordering = tuple(name.removeprefix("-") for name in ordering)
    fields = [model._meta.get_field(name) for name in ordering]  # noqa: SLF001 - public _meta
    position: list[Any] | None = None
    if cursor is not None:
        try:
            position = [f.to_python(v) for f, v in zip(fields, cursor.key, strict=True)]
        except (DjangoValidationError, ValueError, OverflowError) as exc:
            raise invalid_cursor() from exc
        if any(v is None or (isinstance(v, int) and not 0 <= v <= MAX_ID) for v in position):
            raise invalid_cursor()
    backward = cursor is not None and cursor.backward
    reverse = backward != descending  # read from the high end of the index
    rows = queryset.order_by(*(f"-{n}" if reverse else n for n in ordering))
    if position is not None:
        op = "<" if reverse else ">"
        bound = Q(**{f"{ordering[0]}__{'lte' if reverse else 'gte'}": position[0]})
        rows = rows.filter(
            Q(
                RowCompare(
                    [F(n) for n in ordering],
                    [Value(v, output_field=f) for v, f in zip(position, fields, strict=True)],
                    op,
                )
            )
            & bound
        )
    found = list(rows[: count + 1])
    more = len(found) > count
    found = found[:count]

    def key(row: Any) -> list[str]:  # noqa: ANN401 - a model row
        return [f.value_to_string(row) for f in fields]

    return page_from(found[::-1] if backward else found, more=more, cursor=cursor, key=key)


def page_from(
    rows: list[T], *, more: bool, cursor: Cursor | None, key: Callable[[T], list[str]]
) -> Page[T]:
    """The links of a page read in ``cursor``'s direction; ``more``: rows lie beyond it."""
    backward = cursor is not None and cursor.backward
    has_next = (more and not backward) or backward
    has_previous = (more and backward) or (cursor is not None and not backward)
    return Page(
        rows=rows,
        next_key=key(rows[-1]) if rows and has_next else None,
        previous_key=key(rows[0]) if rows and has_previous else None,
    )


# -- several resources a row --------------------------------------------------------------------


def _row_and_code(cursor: Cursor) -> tuple[int, str]:
    raw_id, code = cursor.key
    if not (raw_id.isascii() and raw_id.isdigit()) or not 0 < int(raw_id) <= MAX_ID:
        raise invalid_cursor()
    return int(raw_id), code


def expanded_rows(
    queryset: QuerySet[Any],
    expand: Callable[[Any], list[tuple[str, T]]],
    cursor: Cursor | None,
    count: int,
) -> Page[T]:
    """A page of what rows expand to (an assessment's Observations, an episode's Tasks).

    The order is (row id, each item's code); rows are read ``count`` + 1 at a time from
    the cursor's row on, each a keyset range (``id > x``), until the page is full.
    """
    backward = cursor is not None and cursor.backward
    mark = None if cursor is None else _row_and_code(cursor)
    rows = queryset.order_by("-id" if backward else "id")
    if mark is not None:
        rows = rows.filter(id__lte=mark[0]) if backward else rows.filter(id__gte=mark[0])
    found: list[tuple[tuple[int, str], T]] = []
    last: int | None = None
    while len(found) <= count:
        batch = rows
        if last is not None:
            batch = batch.filter(id__lt=last) if backward else batch.filter(id__gt=last)
        read = list(batch[: count + 1])
        for row in read:
            items = sorted(expand(row), key=lambda pair: pair[0], reverse=backward)
            for code, item in items:
                position = (row.pk, code)
                if mark is None or (position < mark if backward else position > mark):
                    found.append((position, item))
        if len(read) <= count:
            break
        last = read[-1].pk
    more = len(found) > count
    found = found[:count]
    if backward:
        found.reverse()
    page = page_from(
        found, more=more, cursor=cursor, key=lambda pair: [str(pair[0][0]), pair[0][1]]
    )
    return Page(
        rows=[item for _position, item in page.rows],
        next_key=page.next_key,
        previous_key=page.previous_key,
    )


# -- resources computed in memory -------------------------------------------------------------


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """``"12-radicular-pain"`` sorts after ``"9-x"``: digit runs compare as numbers."""
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part)
        for part in re.findall(r"\d+|\D+", text)
    )


def page_of(
    items: list[T], key: Callable[[T], tuple[Any, ...]], cursor: Cursor | None, count: int
) -> Page[T]:
    """A page of ``items`` in the order of ``key`` (unique), from the cursor on.

    The key of each item is a tuple of strings once written into a link; the next page
    starts strictly after the last item's key, whatever was added or removed meanwhile.
    """
    ordered = sorted(items, key=key)
    keyed = [(key(item), item) for item in ordered]
    if cursor is not None:
        mark = tuple(json.loads(part) for part in cursor.key) if cursor.key else ()
        try:
            if cursor.backward:
                keyed = [pair for pair in keyed if _as_list(pair[0]) < _as_list(mark)]
            else:
                keyed = [pair for pair in keyed if _as_list(pair[0]) > _as_list(mark)]
        except TypeError as exc:
            raise invalid_cursor() from exc
    backward = cursor is not None and cursor.backward
    if backward:
        more = len(keyed) > count
        chosen = keyed[-count:]
    else:
        more = len(keyed) > count
        chosen = keyed[:count]
    page = page_from(chosen, more=more, cursor=cursor, key=lambda pair: _key_strings(pair[0]))
    return Page(
        rows=[item for _key, item in page.rows],
        next_key=page.next_key,
        previous_key=page.previous_key,
    )


def _as_list(value: Any) -> list[Any]:  # noqa: ANN401 - a sort key, or its JSON round trip
    return json.loads(json.dumps(value))


def _key_strings(value: tuple[Any, ...]) -> list[str]:
    return [json.dumps(part, separators=(",", ":")) for part in value]


def decode_memory(value: str | None, *, length: int) -> Cursor | None:
    """A cursor of ``page_of``: ``length`` JSON values, checked to parse."""
    cursor = decode(value, length=length)
    if cursor is not None:
        try:
            for part in cursor.key:
                json.loads(part)
        except ValueError as exc:
            raise invalid_cursor() from exc
    return cursor


# -- links ------------------------------------------------------------------------------------


def links(
    request: Request, path: str, params: dict[str, str], count: int, page: Page[Any]
) -> list[dict[str, str]]:
    """Bundle.link: self, and next / previous where there is such a page.

    The links are GET URLs (a FHIR client follows a link with GET). A ``POST _search``'s
    parameters were sent in the body to keep names and birth dates out of URLs, so its
    links carry none of them: they are kept in the cache under a random ``_search_id``,
    for that user, for ``SAVED_SEARCH_SECONDS``.
    """
    base = request.build_absolute_uri(f"/fhir/{path}")
    kept = {k: v for k, v in params.items() if k not in (CURSOR, "_count", SEARCH_ID)}
    if SEARCH_ID in params:
        kept = {SEARCH_ID: params[SEARCH_ID]}
    elif request.method == "POST" and kept and (page.next_key or page.previous_key):
        kept = {SEARCH_ID: save_search(request, kept)}

    def url(cursor: str | None) -> str:
        query = {**kept, "_count": str(count), **({CURSOR: cursor} if cursor else {})}
        return f"{base}?{urlencode(query)}"

    if request.method == "POST" and SEARCH_ID not in kept:
        # One page of a POST _search: its self link is the URL it was posted to, no more.
        out = [{"relation": "self", "url": request.build_absolute_uri()}]
    else:
        out = [{"relation": "self", "url": url(params.get(CURSOR))}]
    if page.next_key is not None:
        out.append({"relation": "next", "url": url(encode(backward=False, key=page.next_key))})
    if page.previous_key is not None:
        out.append(
            {"relation": "previous", "url": url(encode(backward=True, key=page.previous_key))}
        )
    return out


# -- a POST _search's parameters, kept out of its links ---------------------------------------

SEARCH_ID: Final = "_search_id"
SAVED_SEARCH_SECONDS: Final = 3600


def _cache_key(search_id: str) -> str:
    return f"fhir-search:{search_id}"


def save_search(request: Request, params: dict[str, str]) -> str:
    search_id = secrets.token_urlsafe(18)
    cache.set(
        _cache_key(search_id),
        {"user": request.user.pk, "params": params},
        SAVED_SEARCH_SECONDS,
    )
    return search_id


def saved_search(request: Request, search_id: str) -> dict[str, str]:
    """The parameters a ``POST _search`` saved for its links; only for the user who searched."""
    saved = None
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", search_id):
        saved = cache.get(_cache_key(search_id))
    if not isinstance(saved, dict) or saved.get("user") != request.user.pk:
        msg = (
            f"{SEARCH_ID}: this search's pages have expired (after "
            f"{SAVED_SEARCH_SECONDS // 60} minutes) or are another user's; search again"
        )
        raise exceptions.ValidationError(msg)
    return dict(saved["params"])
