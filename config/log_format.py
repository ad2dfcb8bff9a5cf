"""Log records as JSON lines: the fields named here and nothing else.

One object per line with ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``process``,
``message``, ``request_id`` (django-guid's, carried from a request into the Celery tasks it
enqueues) and, in a Celery task, ``task_id``/``parent_task_id`` (django-guid's tracing
ids). A record's other attributes are left out on purpose: Django's request logger puts
the request itself on the record (its path, with a check-in token or a search by name), and
a JSON formatter would print every such extra. The message has passed the ``redact``
filter (config/log_redaction.py) before it gets here; a traceback is redacted here.
https://nhairs.github.io/python-json-logger/latest/ ; decision 0013.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from config.log_redaction import redact

FIELDS = (
    "asctime", "levelname", "name", "process", "message", "correlation_id",
    "celery_current_id", "celery_parent_id",
)  # fmt: skip
RENAMED = {
    "asctime": "time",
    "levelname": "level",
    "name": "logger",
    "correlation_id": "request_id",
    "celery_current_id": "task_id",
    "celery_parent_id": "parent_task_id",
}


class JsonLines(JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", list(FIELDS))
        kwargs.setdefault("rename_fields", RENAMED)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802, ARG002 - logging's name
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        for field in FIELDS:
            value = record.__dict__.get(field)
            if value is not None or field == "correlation_id":
                log_data[RENAMED.get(field, field)] = value
        for key in ("exc_info", "stack_info"):
            if message_dict.get(key):
                log_data[key] = redact(str(message_dict[key]))
