"""DRF's JSON parser, hardened: deeply nested JSON is a 400, not a crash."""

from __future__ import annotations

from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:  # noqa: ANN401 - any JSON value
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # json.loads recurses once per nesting level; a body of 50,000 "[" would
            # otherwise escape as a RecursionError and a 500.
            msg = "JSON parse error - nested too deeply."
            raise ParseError(msg) from exc
