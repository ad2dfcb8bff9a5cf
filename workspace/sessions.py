"""The session engine: Django's database sessions, each request's read one prepared statement.

Every signed-in request reads its session row; Django's ``SessionStore`` compiles
``Session.objects.get(session_key=…, expire_date__gt=now)`` for it each time. Here the same
read is a fixed statement (``infra.db.prepared_cursor``); writing, expiry, ``clearsessions``
and the table are Django's, unchanged (``SESSION_ENGINE = "workspace.sessions"``).
"""

from __future__ import annotations

from functools import cache

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from infra.db import prepared_cursor


@cache
def _read_sql() -> str:
    meta = Session._meta  # noqa: SLF001 - Django's public _meta API
    quote = connection.ops.quote_name
    key = quote(meta.get_field("session_key").column)
    expiry = quote(meta.get_field("expire_date").column)
    return (
        f"SELECT {quote(meta.get_field('session_data').column)}, {expiry}"  # noqa: S608 - names
        f" FROM {quote(meta.db_table)} WHERE {key} = %s AND {expiry} > %s"
    )


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        key = self.session_key  # None when the cookie's key is not a valid one
        row = None
        if key is not None:
            with prepared_cursor() as cursor:
                cursor.execute(_read_sql(), [key, timezone.now()])
                row = cursor.fetchone()
        if row is None:  # no such session, or expired: a new one, as Django's store does
            self._session_key = None
            return None
        return Session(session_key=key, session_data=row[0], expire_date=row[1])
