"""Text a spreadsheet opens as text: a CSV cell that would start a formula is defused.

A spreadsheet reads a cell starting with ``= + - @``, a tab or a carriage return as a
formula (OWASP, "CSV Injection": https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import re
from typing import Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
NUMBER: Final = re.compile(r"-?\d+(\.\d+)?")


def cell(value: str) -> str:
    """``value`` as text no spreadsheet runs: a leading ' before a formula's first character.

    A number (a negative one included) is left as it is, so it still reads as a number.
    """
    if value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value
