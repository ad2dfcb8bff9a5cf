"""A write's INSERTs and its episode's UPDATE as fixed prepared statements, from the models.

The ORM compiles a save's statement again on every call. A transition inserts its log row
and its decision's row (referral, plan, closure), and every write ends with the episode's
UPDATE. ``insert`` and ``update_changed`` send the statements ``save()`` sends (the same
columns and values) through ``infra.db.prepared_cursor``, and do what ``save()`` does
around them: the fields' ``pre_save`` (``auto_now``, ``auto_now_add``), the
``pre_save``/``post_save`` signals, the instance marked as saved. ``insert`` is for models
whose own ``save()`` adds nothing to a new row's.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from django_fsm import ConcurrentTransition

from episodes.models import Episode
from infra.db import prepared_cursor

M = TypeVar("M", bound=Model)


@cache
def _statement(model: type[Model]) -> tuple[str, list[Field[Any, Any]], list[Field[Any, Any]]]:
    """The INSERT of ``model``'s columns (all but generated ones and the serial key)."""
    meta = model._meta  # noqa: SLF001 - Django's public _meta API
    quote = connection.ops.quote_name
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"  # noqa: S608 - names from the model, values are parameters
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f" RETURNING {', '.join(quote(f.column) for f in returning)}"
    )
    return sql, fields, returning


def insert(instance: M) -> M:
    """``instance.save()`` of a new row, as one fixed prepared statement; returns it."""
    model = type(instance)
    if not instance._state.adding or instance.pk is not None:  # noqa: SLF001 - Django's state
        msg = f"insert() writes a new {model.__name__} only."
        raise ValueError(msg)
    instance._prepare_related_fields_for_save(operation_name="save")  # noqa: SLF001 - as save()
    # The connection itself: through ``django.db.connection`` each field's conversion
    # looks the thread's connection up again.
    db = connections[DEFAULT_DB_ALIAS]
    using = db.alias
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    sql, fields, returning = _statement(model)
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), db) for f in fields]
    with transaction.mark_for_rollback_on_error(using), prepared_cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    for field, value in zip(returning, row, strict=True):
        setattr(instance, field.attname, value)
    instance._state.db = using  # noqa: SLF001
    instance._state.adding = False  # noqa: SLF001
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )
    return instance


@cache
def _update_statement(fields: tuple[str, ...]) -> tuple[str, list[Field[Any, Any]]]:
    """The episode's UPDATE of ``fields``, where its id and its state are the ones read."""
    meta = Episode._meta  # noqa: SLF001 - Django's public _meta API
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    sql = (
        f"UPDATE {quote(meta.db_table)}"  # noqa: S608 - names from the model, values are parameters
        f" SET {', '.join(f'{quote(f.column)} = %s' for f in columns)}"
        f" WHERE {quote(meta.pk.column)} = %s AND {quote(meta.get_field('state').column)} = %s"
    )
    return sql, columns


def update_changed(episode: Episode) -> None:
    """``episode.save(update_fields=episode.changed_fields())`` as one fixed statement.

    The columns the write changed since ``lock`` read them, and ``updated_at``. As
    django-fsm's ``ConcurrentTransitionMixin`` does, only while the row's state is the one
    read (``ConcurrentTransition`` otherwise); the row is locked, so it is. An episode not
    read by ``lock`` is saved whole, by ``save()``.
    """
    fields = episode.changed_fields()
    if fields is None:
        episode.save()
        return
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, as ``insert``
    using = db.alias
    pre_save.send(
        sender=Episode, instance=episode, raw=False, using=using, update_fields=frozenset(fields)
    )
    sql, columns = _update_statement(tuple(sorted(fields)))
    values = [f.get_db_prep_save(f.pre_save(episode, add=False), db) for f in columns]
    state_as_read = episode._columns_as_read["state"]  # noqa: SLF001 - the episode's own record
    with transaction.mark_for_rollback_on_error(using), prepared_cursor() as cursor:
        cursor.execute(sql, [*values, episode.pk, state_as_read])
        updated = cursor.rowcount
    if updated != 1:
        msg = "Cannot save object! The state has been changed since fetched from the database!"
        raise ConcurrentTransition(msg)
    episode._state.db = using  # noqa: SLF001
    episode._state.adding = False  # noqa: SLF001
    episode._update_initial_state()  # noqa: SLF001 - django-fsm's record of the state saved
    episode.saved(fields)
    post_save.send(
        sender=Episode,
        instance=episode,
        created=False,
        update_fields=frozenset(fields),
        raw=False,
        using=using,
    )
