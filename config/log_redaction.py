"""Check-in links are bearer tokens, and searches name patients: no log line carries either.

``/check-in/<signed token>/`` opens a patient's check-in to whoever holds it, so the token
is replaced by ``[redacted]`` wherever a path is logged: in Django's own records ("Not
Found: /check-in/...", via the ``redact`` filter on every handler) and in
gunicorn's access log (``GunicornLogger``, named by ``gunicorn.conf.py``), request line
and Referer included. The same places lose the value of every query parameter that can
identify a patient, whatever the path (a FHIR search ``Patient?birthdate=1960-06-06``,
``name:contains=``, the API's ``?q=``): ``IDENTIFYING`` names them, modifiers included.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

CHECKIN_TOKEN = re.compile(r"(/check-in/)[^/\s?\"']+")
REDACTED = r"\1[redacted]"
# Search parameters whose values name, date or reach a person (FHIR's Patient and
# RelatedPerson searches, the API's ``q``), with any FHIR modifier (``name:exact``).
IDENTIFYING = (
    "q", "name", "family", "given", "birthdate", "birth_date", "phone", "email",
    "telecom", "identifier", "address", "address-postalcode", "phonetic", "patient.name",
)  # fmt: skip
SEARCH_VALUE = re.compile(
    r"([?&](?:%s)(?::[A-Za-z-]+)?=)[^&\s\"']*" % "|".join(re.escape(n) for n in IDENTIFYING),  # noqa: UP031 - a pattern built once
    re.IGNORECASE,
)


def redact(text: str) -> str:
    return SEARCH_VALUE.sub(REDACTED, CHECKIN_TOKEN.sub(REDACTED, text))


class Redact(logging.Filter):
    """Check-in tokens and identifying search values out of a record's message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


_CONTROL = {code: f"\\u{code:04x}" for code in range(32)}


def _escaped(text: str) -> str:
    """Backslashes and control characters as a JSON string writes them."""
    return text.replace("\\", "\\\\").translate(_CONTROL)


class GunicornLogger(Logger):
    """gunicorn's logger with every string atom of the access log redacted.

    Backslashes and control characters are escaped too (gunicorn escapes the quotes), so
    the JSON access format (gunicorn.conf.py) stays one valid object per line whatever a
    client puts in its request line or headers.
    """

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:  # noqa: ANN401
        return {
            key: _escaped(redact(value)) if isinstance(value, str) else value
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
