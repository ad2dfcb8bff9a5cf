"""A cursor for the hot statements whose text never changes: prepared on PostgreSQL.

Django sends every statement with its values spelled into the text (psycopg's client-side
binding) and never prepares one, so PostgreSQL parses and plans each again. Three statements
run on every queue page: the token check (``api.authentication``, every API request's), the
page (``episodes.selectors.queue_rows``) and the read records' ``INSERT`` (``api.audit``); a
fourth in about half of all transitions, the reminders' update
(``notifications.services._write_resynced``). A write's own statements are fixed too: its
access check (``episodes.selectors.episode_id_for``), the lock of its episode and patient
(``episodes.services.checks.lock``), the related rows it reads
(``episodes.selectors.prefetch``), a transition's INSERTs and the episode's UPDATE of the
columns the write changed (``episodes.services.statements``); and so are every signed-in
page's session and user reads (``workspace.sessions``, ``workspace.backends``) and the
episode timeline's sources (``episodes.selectors.timeline``, ``prefetch.rows_of``). Their
text is fixed and their values are parameters, so ``prepared_cursor`` sends them bound
server-side and prepared: parsed once per database connection, and planned once where
PostgreSQL finds a generic plan no worse than a custom one (``plan_cache_mode`` auto; the
page's conditions on dates and cursors keep their custom plans). Planning was half of the
page's time on the server (0.25 of 0.5 ms, ``EXPLAIN ANALYZE`` at 100k). Why, and what it
asks of a pooler:
docs/decisions/0003-prepared-statements-and-poolers.md.

``CAREFLOW_DB_PREPARED_STATEMENTS=false`` turns it off (a cursor as Django's own), for a
connection pooler in transaction mode that does not keep prepared statements per client:
PgBouncer before 1.21, or later without ``max_prepared_statements``.
https://www.psycopg.org/psycopg3/docs/advanced/prepare.html#using-prepared-statements-with-pgbouncer

The cursor is Django's wrapper (errors as Django's, execute wrappers see its statements).
While Django logs queries (``DEBUG``, ``CaptureQueriesContext``), it is Django's own
cursor: the log then shows each statement with its values (Django spells out a prepared
statement's text only with ``$1`` placeholders, or not at all), and the same text and
values reach the same database either way.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper


def prepared_statements() -> bool:
    """Whether ``prepared_cursor`` prepares (the setting not turned off)."""
    return settings.CAREFLOW_DB_PREPARED_STATEMENTS


def prepared_cursor() -> CursorWrapper:
    """A cursor whose statements are bound server-side and prepared; use it in ``with``."""
    # The connection itself, looked up once: each attribute of ``django.db.connection`` is
    # a lookup of the thread's connection again.
    db = connections[DEFAULT_DB_ALIAS]
    if not prepared_statements() or db.queries_logged:
        return db.cursor()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(PreparingCursor(db.connection))  # noqa: SLF001 - Django's own wrapping (debug cursor, thread check)


class PreparingCursor(ServerBindingCursor):  # type: ignore[misc,valid-type]
    """Django's server-binding cursor for psycopg, every statement prepared."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # noqa: ANN401 - psycopg's signature
        kwargs["prepare"] = True
        return super().execute(query, params, **kwargs)
