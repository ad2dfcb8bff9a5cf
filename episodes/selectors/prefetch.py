"""Rows read by fixed prepared statements, and related rows into Django's prefetch cache.

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

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

from infra.db import prepared_cursor


def related_rows(instance: Model, name: str, *, for_update: bool = False) -> list[Model]:
    """The rows of ``instance``'s reverse relation ``name``, each one's ``instance`` set.

    In the related model's order (its ``Meta.ordering``, else its primary key);
    ``for_update``: locked until the transaction ends (``select_for_update()``).
    """
    relation = type(instance)._meta.get_field(name)  # noqa: SLF001 - Django's public _meta API
    related = relation.related_model
    rows = rows_of(
        related,
        where=f't."{relation.field.column}" = %s',
        args=[instance.pk],
        order=tuple(related._meta.ordering or [related._meta.pk.name]),  # noqa: SLF001
        for_update=for_update,
    )
    for row in rows:
        relation.field.set_cached_value(row, instance)
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


def _order_column(meta: Any, related: tuple[str, ...], name: str) -> str:  # noqa: ANN401 - a model's _meta
    """An ``order`` name as its column: the table's, or a ``related`` row's (``rel__field``)."""
    quote = connection.ops.quote_name
    if "__" in name:
        relation, field = name.split("__", 1)
        other = meta.get_field(relation).related_model._meta  # noqa: SLF001
        return f"r{related.index(relation)}.{quote(other.get_field(field).column)}"
    return f"t.{quote(meta.get_field(name).column)}"


@cache
def _rows_statement(
    model: type[Model],
    where: str,
    related: tuple[str, ...],
    order: tuple[str, ...],
    for_update: bool,  # noqa: FBT001 - a cache key
) -> tuple[str, list[tuple[Any, list[str], int, int, int]], list[tuple[int, Any]]]:
    """The SELECT of ``model``'s rows (alias ``t``) with each ``related`` row joined.

    As the ORM's ``select_related`` joins: INNER for a foreign key that cannot be NULL,
    LEFT otherwise. ``FOR UPDATE`` locks the model's row and each INNER-joined row, as
    ``select_for_update()`` does; a LEFT-joined row is read, not locked (PostgreSQL
    refuses to lock the nullable side of an outer join).

    With it, per model read (the model itself first, then each related one): the model,
    its field names, its slice of the row's columns and its primary key's column; and the
    converted columns.
    """
    quote = connection.ops.quote_name
    meta = model._meta  # noqa: SLF001 - Django's public _meta API
    parts = [(model, "t", meta.concrete_fields)]
    joins, locked = [], ["t"]
    for n, name in enumerate(related):
        field = meta.get_field(name)
        other = field.related_model._meta  # noqa: SLF001
        alias = f"r{n}"
        parts.append((field.related_model, alias, other.concrete_fields))
        if not field.null:
            locked.append(alias)
        joins.append(
            f" {'LEFT' if field.null else 'INNER'} JOIN {quote(other.db_table)} {alias}"
            f" ON t.{quote(field.column)} = {alias}.{quote(other.pk.column)}"
        )
    columns, reads, converted, start = [], [], [], 0
    for part_model, alias, fields in parts:
        columns += [f"{alias}.{quote(f.column)}" for f in fields]
        converted += [(start + i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]
        names = [f.attname for f in fields]
        pk_at = start + names.index(part_model._meta.pk.attname)  # noqa: SLF001
        reads.append((part_model, names, start, start + len(fields), pk_at))
        start += len(fields)
    ordering = ", ".join(
        f"{_order_column(meta, related, o.lstrip('-'))}{' DESC' if o.startswith('-') else ''}"
        for o in order
    )
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} t{''.join(joins)}"  # noqa: S608 - names and fixed conditions, values are parameters
        f" WHERE {where} ORDER BY {ordering}"
        + (f" FOR UPDATE OF {', '.join(locked)}" if for_update else "")
    )
    return sql, reads, converted


def rows_of(
    model: type[Model],
    *,
    where: str,
    args: list[Any],
    related: tuple[str, ...] = (),
    order: tuple[str, ...] = ("id",),
    for_update: bool = False,
) -> list[Model]:
    """``model.objects.filter(…).select_related(*related).order_by(*order)``, fixed.

    One prepared statement: ``where`` is a condition over the table as ``t`` (fixed text,
    the values in ``args``), ``related`` the foreign keys read along, ``order`` field names
    (``-`` for descending), ``for_update`` as ``select_for_update()``.
    """
    sql, reads, converted = _rows_statement(model, where, related, order, for_update)
    with prepared_cursor() as cursor:
        cursor.execute(sql, args)
        fetched = cursor.fetchall()
    # The connection itself: each attribute of ``django.db.connection`` looks the thread's
    # connection up again, per row and column.
    db = connections[DEFAULT_DB_ALIAS]
    using = db.alias
    out = []
    for values in fetched:
        values = list(values)  # noqa: PLW2901 - the row, converted in place
        for index, field in converted:
            values[index] = field.from_db_value(values[index], None, db)
        (own, names, start, end, _), *others = reads
        row = own.from_db(using, names, values[start:end])
        for name, (other, other_names, a, b, pk_at) in zip(related, others, strict=True):
            found = None
            if values[pk_at] is not None:  # no related row (a NULL foreign key)
                found = other.from_db(using, other_names, values[a:b])
            model._meta.get_field(name).set_cached_value(row, found)  # noqa: SLF001
        out.append(row)
    return out
