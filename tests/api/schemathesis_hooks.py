"""Schemathesis hooks for `make fuzz` (tests/api/schemathesis.toml names this file).

The adherence report answers ``?format=csv`` as CSV text, errors included, and its schema
says so (``type: string``); schemathesis reads it as that text and validates it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import schemathesis


@schemathesis.deserializer("text/csv")
def csv_text(ctx: Any, response: Any) -> str:
    text = response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != ["figure", "value"] or any(len(row) != 2 for row in rows):
        msg = "not the report's CSV: a figure,value header and two columns in every row"
        raise ValueError(msg)
    return text
