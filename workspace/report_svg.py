"""The adherence report's charts: small SVGs drawn in Python (no CDN, no script).

Each chart is decorative beside its table (the text alternative): ``role="img"`` with a
title naming the table that carries the same numbers. Colours are presentation
attributes, not inline styles, so a strict CSP needs no exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

from django.utils.safestring import SafeString, mark_safe

# NHS palette, each distinguishable in greyscale by its order in the legend as well.
PALETTE: Final = ("#005eb8", "#009639", "#ffb81c", "#d5281b", "#330072", "#768692", "#00a499",
                  "#ae2573", "#425563", "#ed8b00")  # fmt: skip
WIDTH: Final = 640
BAR: Final = 22
GAP: Final = 10
LABEL_WIDTH: Final = 180
TEXT: Final = "#212b32"
LEGEND_COLUMNS: Final = 3  # room for "Epidural steroid injection" in each column


def _svg(height: int, title: str, body: list[str]) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cf-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="Arial, sans-serif" font-size="14"><title>{escape(title)}</title>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped


def bars(title: str, rows: Sequence[tuple[str, float | None]], *, unit: str = "%") -> SafeString:
    """Horizontal bars, one per row; ``None`` draws no bar and says "no data"."""
    top = 8
    scale = max((v for _, v in rows if v is not None), default=0) or 1
    if unit == "%":
        scale = 1
    span = WIDTH - LABEL_WIDTH - 80
    body: list[str] = []
    for index, (label, value) in enumerate(rows):
        y = top + index * (BAR + GAP)
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 6}" text-anchor="end" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
        if value is None:
            body.append(f'<text x="{LABEL_WIDTH}" y="{y + BAR - 6}" fill="#4c6272">no data</text>')
            continue
        length = round(span * value / scale)
        shown = f"{value * 100:.0f}%" if unit == "%" else f"{value:g}{unit}"
        body.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + BAR - 6}" fill="{TEXT}">{shown}</text>'
        )
    return _svg(top * 2 + len(rows) * (BAR + GAP), title, body)


@dataclass(frozen=True, slots=True)
class Stack:
    label: str
    parts: Sequence[int]


def stacked(title: str, series: Sequence[str], stacks: Sequence[Stack]) -> SafeString:
    """Horizontal stacked bars, each 100% wide (shares of the stack's total), with a legend."""
    legend_rows = (len(series) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS
    top = 8 + legend_rows * 22
    span = WIDTH - LABEL_WIDTH - 20
    body: list[str] = []
    for index, name in enumerate(series):
        x = 8 + (index % LEGEND_COLUMNS) * (WIDTH // LEGEND_COLUMNS)
        y = 8 + (index // LEGEND_COLUMNS) * 22
        body.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{PALETTE[index % 10]}"/>'
            f'<text x="{x + 20}" y="{y + 12}" fill="{TEXT}">{escape(name)}</text>'
        )
    for row, stack in enumerate(stacks):
        y = top + 8 + row * (BAR + GAP)
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 6}" text-anchor="end" '
            f'fill="{TEXT}">{escape(stack.label)}</text>'
        )
        total = sum(stack.parts)
        if not total:
            body.append(f'<text x="{LABEL_WIDTH}" y="{y + BAR - 6}" fill="#4c6272">none</text>')
            continue
        x = float(LABEL_WIDTH)
        for index, part in enumerate(stack.parts):
            width = span * part / total
            if width:
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR}" '
                    f'fill="{PALETTE[index % 10]}" stroke="#ffffff"/>'
                )
            x += width
    return _svg(top + 16 + len(stacks) * (BAR + GAP), title, body)
