"""Related rows read by a prepared statement, and into Django's prefetch cache.

``prefetch_related_objects([episode], "red_flags", "imaging")`` compiles two querysets on
every write that reads an episode's facts. ``prefetch_rows`` sends the same reads, each a
fixed statement written once from the models (``infra.db.prepared_cursor``), and leaves
the rows where Django's prefetch leaves them: ``episode.red_flags.all()`` reads no more,
each row's ``episode`` is the instance. Same columns, same order (the related model's
``Meta.ordering``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model

from infra.db import prepared_cursor


@cache
def _statement(
    model: type[Model], name: str, *, for_update: bool = False
) -> tuple[str, list[str], list[tuple[int, Any]]]:
    """The SELECT of ``name``'s rows by their key; their field names; the converted columns."""
    relation = model._meta.get_field(name)  # noqa: SLF001 - Django's public _meta API
    related = relation.related_model._meta  # noqa: SLF001
    quote = connection.ops.quote_name
    fields = related.concrete_fields
    order = ", ".join(
        f"{quote(related.get_field(o.lstrip('-')).column)}{' DESC' if o.startswith('-') else ''}"
        for o in (related.ordering or [related.pk.name])
    )
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(related.db_table)}"  # noqa: S608 - names, not data
        f" WHERE {quote(relation.field.column)} = %s ORDER BY {order}"
        + (" FOR UPDATE" if for_update else "")
    )
    converted = [(i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]
    return sql, [f.attname for f in fields], converted


def related_rows(instance: Model, name: str, *, for_update: bool = False) -> list[Model]:
    """The rows of ``instance``'s reverse relation ``name``, each one's ``instance`` set.

    ``for_update``: locked until the transaction ends (``select_for_update()``), in the
    related model's order (its ``Meta.ordering``, else its primary key).
    """
    sql, attnames, converted = _statement(type(instance), name, for_update=for_update)
    relation = type(instance)._meta.get_field(name)  # noqa: SLF001 - Django's public _meta API
    with prepared_cursor() as cursor:
        cursor.execute(sql, [instance.pk])
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        values = list(values)  # noqa: PLW2901 - the row, converted in place
        for index, field in converted:
            values[index] = field.from_db_value(values[index], None, connection)
        row = relation.related_model.from_db(connection.alias, attnames, values)
        relation.field.set_cached_value(row, instance)
        rows.append(row)
    return rows


def prefetch_rows(instance: Model, *names: str) -> None:
    """Read each reverse relation ``name`` of ``instance`` into its prefetch cache."""
    cache_of = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    for name in names:
        rows = related_rows(instance, name)
        cache_of.pop(name, None)  # the manager's queryset, not a stale cache
        queryset = getattr(instance, name).get_queryset()
        queryset._result_cache = rows  # noqa: SLF001 - what Django's prefetch sets
        queryset._prefetch_done = True  # noqa: SLF001
        cache_of[name] = queryset
