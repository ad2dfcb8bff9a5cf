"""Keyset ("cursor") pagination on the queryset's own ordering.

DRF's CursorPagination keys on the first ordering field only and walks ties with an OFFSET;
queues order by dates shared by many episodes (``next_deadline``, ``id``), so this pager
keys on every ordering field instead: each page is one ``WHERE (a, id) > (x, y) ORDER BY a,
id LIMIT n`` on an index, as fast on page 1,000 as on page 1.
"""

from __future__ import annotations

import binascii
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from types import SimpleNamespace
from typing import Any, Protocol

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, Expression, F, Model, Q, QuerySet, Value
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from episodes.selectors import MAX_ID

FORWARD = "n"
BACKWARD = "p"


class Fetch(Protocol):
    def __call__(self, position: list[Any] | None, *, before: bool, limit: int) -> list[Any]: ...


class RowCompare(Expression):
    """``(a, b, …) < (x, y, …)`` (or ``>``): a row comparison.

    A btree index on ``(…, a, b)`` reads it as one range (PostgreSQL's "row constructor
    comparison").
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, lhs: list[Any], rhs: list[Any], op: str) -> None:
        super().__init__()
        if op not in ("<", ">") or len(lhs) != len(rhs):
            msg = f"RowCompare: {op!r} of {len(lhs)} and {len(rhs)} values"
            raise ValueError(msg)
        self.lhs, self.rhs, self.op = list(lhs), list(rhs), op

    def get_source_expressions(self) -> list[Any]:
        return [*self.lhs, *self.rhs]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        half = len(exprs) // 2
        self.lhs, self.rhs = list(exprs[:half]), list(exprs[half:])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # noqa: ANN401, ARG002 - Django's signature
        sides, params = [], []
        for side in (self.lhs, self.rhs):
            parts = []
            for expression in side:
                sql, more = compiler.compile(expression)
                parts.append(sql)
                params.extend(more)
            sides.append(f"({', '.join(parts)})")
        return f"{sides[0]} {self.op} {sides[1]}", params


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 25
    max_page_size = 100

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        request: Request,
        view: Any = None,  # noqa: ANN401, ARG002 - DRF's signature
    ) -> list[Any]:
        ordering = tuple(str(field) for field in queryset.query.order_by)
        if not ordering or any(field.startswith("-") for field in ordering):
            msg = "keyset pagination needs an ascending order_by() ending with a unique field"
            raise ValueError(msg)

        def fetch(position: list[Any] | None, *, before: bool, limit: int) -> list[Any]:
            rows = queryset
            if position is not None:
                rows = rows.filter(self._beyond(position, before=before))
            if before:
                rows = rows.order_by(*(f"-{field}" for field in ordering))
            return list(rows[:limit])

        return self.paginate_rows(fetch, ordering=ordering, model=queryset.model, request=request)

    def paginate_rows(
        self,
        fetch: Fetch,
        *,
        ordering: tuple[str, ...],
        model: type[Model],
        request: Request,
    ) -> list[Any]:
        """A page of the rows ``fetch(position, before=, limit=)`` reads.

        ``fetch`` answers up to ``limit`` rows beyond the cursor's ``position`` (None: from
        the start) in ``ordering``, reversed when ``before``. The API's queue pages read their
        hand-written statement this way (episodes.selectors.queue_page_rows);
        ``paginate_queryset`` filters a queryset the same way.
        """
        self.request = request
        self.ordering = ordering
        self.model = model
        size = self._page_size(request)
        direction, position = self._decode(request.query_params.get(self.cursor_query_param))
        if direction == BACKWARD:
            rows = fetch(position, before=True, limit=size + 1)
            self.has_previous = len(rows) > size
            rows = rows[:size][::-1]
            self.has_next = True
        else:
            rows = fetch(position, before=False, limit=size + 1)
            self.has_next = len(rows) > size
            rows = rows[:size]
            self.has_previous = position is not None
        self.rows = rows
        return rows

    def get_paginated_response(self, data: Any) -> Response:  # noqa: ANN401 - serialized data
        return Response(
            {"next": self._link(FORWARD), "previous": self._link(BACKWARD), "results": data}
        )

    # -- cursor ------------------------------------------------------------------------------

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def _position_of(self, row: Model | dict[str, Any]) -> list[str]:
        if isinstance(row, dict):
            # A values() page (the queue pages): the ordering columns by name.
            row = SimpleNamespace(
                **{self._field(name).attname: row[name] for name in self.ordering}
            )
        return [self._field(name).value_to_string(row) for name in self.ordering]

    def _field(self, name: str) -> Any:  # noqa: ANN401 - a Django model field
        return self.model._meta.get_field(name)  # noqa: SLF001 - Django's public _meta API

    def _encode(self, direction: str, position: list[str]) -> str:
        raw = json.dumps({"d": direction, "p": position}, separators=(",", ":"))
        return urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, cursor: str | None) -> tuple[str, list[Any] | None]:
        if cursor is None:
            return FORWARD, None
        invalid = ValidationError({self.cursor_query_param: ["Invalid cursor."]})
        try:
            raw = json.loads(urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            direction, position = raw["d"], raw["p"]
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
            raise invalid from exc
        if (
            direction not in (FORWARD, BACKWARD)
            or not isinstance(position, list)
            or len(position) != len(self.ordering)
            or not all(isinstance(value, str) for value in position)
        ):
            raise invalid
        try:
            values = [
                self._field(name).to_python(value)
                for name, value in zip(self.ordering, position, strict=True)
            ]
        except (DjangoValidationError, FieldDoesNotExist, ValueError, OverflowError) as exc:
            raise invalid from exc
        if any(value is None for value in values) or any(
            isinstance(value, int) and not 0 <= value <= MAX_ID for value in values
        ):
            raise invalid
        return direction, values

    def _beyond(self, position: list[Any], *, before: bool) -> Q:
        """Rows strictly after (or before) ``position`` in the lexicographic order."""
        op = "lt" if before else "gt"
        if len(self.ordering) == 1:
            return Q(**{f"{self.ordering[0]}__{op}": position[0]})
        # One row comparison, ``(a, id) > (x, y)``: PostgreSQL starts the ordered index
        # range (care_team, a, id) exactly at the cursor and reads the page's rows only.
        # Spelled as ``a > x OR (a = x AND id > y)`` it is two bitmap scans and a sort
        # wherever few rows are left, so a page near a queue's end reads and sorts what is
        # left of it (urgent's last page at 1M: 158 entries read against 52). ``a >= x``
        # beside it changes no answer: the planner estimates a row comparison by its first
        # column alone, and without the plain bound it misjudges how much of the queue is
        # left (at 100k it ANDed a 13 000-entry bitmap into reassessment_due's last page).
        # docs/decisions/0004-keyset-by-row-comparison.md.
        fields = [self._field(name) for name in self.ordering]
        first = self.ordering[0]
        return Q(
            RowCompare(
                [F(name) for name in self.ordering],
                [Value(v, output_field=f) for v, f in zip(position, fields, strict=True)],
                "<" if before else ">",
            )
        ) & Q(**{f"{first}__{op}e": position[0]})

    def _link(self, direction: str) -> str | None:
        if not self.rows:
            return None
        if direction == FORWARD and not self.has_next:
            return None
        if direction == BACKWARD and not self.has_previous:
            return None
        edge = self.rows[-1] if direction == FORWARD else self.rows[0]
        url = self.request.build_absolute_uri()
        cursor = self._encode(direction, self._position_of(edge))
        return replace_query_param(
            remove_query_param(url, self.cursor_query_param), self.cursor_query_param, cursor
        )

    # -- OpenAPI -------------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(
        self,
        view: Any,  # noqa: ANN401, ARG002 - DRF's signature
    ) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The cursor of a `next` or `previous` link, as the server gave"
                " it: opaque, and valid only for the list that gave it. Any other value is a"
                " 400 `invalid`.",
                # What _encode writes: URL-safe base64 without padding.
                "schema": {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
