"""The pathway picture: an SVG drawn in Python from careflow's state and transition tables.

Left to right from conservative care to surgery, the urgent lane set apart below, each
arrow labelled with its transition and the rule IDs that guard it. The rule IDs come from
the guards themselves (``careflow.guards.evaluate`` on the least favourable facts), so a
rule added to a guard shows up here without anyone editing the picture. No graphviz: the
layout is fixed by the guideline's reading order; the arrows come from ``TRANSITIONS``.
Presentation attributes only (no ``style``), so the picture obeys a strict
Content-Security-Policy when it is inlined into a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Final
from xml.sax.saxutils import escape

from django.utils.translation import get_language, gettext_lazy

from careflow.guards import citable_rules, waived_by_red_flag
from careflow.states import NON_TERMINAL_STATES, TRANSITIONS, State, TransitionName
from workspace import labels

# -- layout -----------------------------------------------------------------------------------

MAIN_LANE: Final = (
    State.CONSERVATIVE_CARE,
    State.IMAGING_ELIGIBLE,
    State.ESI,
    State.SPECIALIST_REFERRAL,
    State.SURGICAL_REVIEW,
    State.SURGERY,
    State.REFRACTORY,
)
COLUMN: Final = 168
LEFT: Final = 24
BOX_W: Final = 132
BOX_H: Final = 52
MAIN_Y: Final = 150
URGENT_Y: Final = 380
WIDTH: Final = LEFT * 2 + COLUMN * (len(MAIN_LANE) - 1) + BOX_W
HEIGHT: Final = 520
# WCAG AA on white: every text colour below has a contrast ratio of at least 4.5:1.
INK: Final = "#212b32"
BLUE: Final = "#005eb8"
RED: Final = "#b10e1e"
GREY: Final = "#4c6272"
PALE_RED: Final = "#fde8ea"
PALE_BLUE: Final = "#e8f1f8"


@dataclass(frozen=True, slots=True)
class Box:
    state: State
    x: float
    y: float

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def cy(self) -> float:
        return self.y + BOX_H / 2


def _boxes() -> dict[State, Box]:
    boxes = {state: Box(state, LEFT + i * COLUMN, MAIN_Y) for i, state in enumerate(MAIN_LANE)}
    # The urgent lane sits under the pre-referral states it is reached from.
    boxes[State.URGENT_ESCALATION] = Box(State.URGENT_ESCALATION, LEFT + 1.5 * COLUMN, URGENT_Y)
    return boxes


# -- which rules guard a transition ---------------------------------------------------------


# A transition's words where the page's own are too long for the gap between two boxes.
SHORTER: Final = {TransitionName.SCHEDULE_ESI: gettext_lazy("Schedule the injection")}


@cache
def guard_rules(name: TransitionName) -> tuple[str, ...]:
    """The rule IDs a transition's guard can cite, asked of the guard itself (careflow).

    The five red-flag categories read as one ``RF`` on an arrow; URG-1 is added where an
    active red flag waives part of the guard.
    """
    found = {"RF" if rule.startswith("RF-") else rule for rule in citable_rules(name)}
    if waived_by_red_flag(name):
        found.add("URG-1")
    return tuple(sorted(found))


def _label(name: TransitionName) -> tuple[str, str]:
    rules = guard_rules(name)
    title = SHORTER.get(name) or labels.transition(name.value)
    return str(title), (" ".join(rules) if rules else "no guard")


# -- drawing ----------------------------------------------------------------------------------


def _text(
    x: float, y: float, body: str, *, size: int = 12, fill: str = INK, weight: str = ""
) -> str:
    bold = ' font-weight="bold"' if weight else ""
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" fill="{fill}"{bold}'
        f' text-anchor="middle">{escape(body)}</text>'
    )


def _state_box(box: Box, *, current: bool) -> str:
    urgent = box.state == State.URGENT_ESCALATION
    stroke = RED if urgent else BLUE
    fill = stroke if current else (PALE_RED if urgent else PALE_BLUE)
    ink = "#ffffff" if current else INK
    words = str(labels.state(box.state.value))
    lines = [words] if len(words) <= 14 else words.rsplit(" ", 1)  # noqa: PLR2004
    parts = [
        f'<g class="pathway-state" data-state="{box.state.value}">',
        (
            f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8"'
            f' fill="{fill}" stroke="{stroke}" stroke-width="{4 if current else 2}"/>'
        ),
    ]
    first_y = box.cy + 5 - 8 * (len(lines) - 1)
    parts.extend(
        _text(box.cx, first_y + 16 * i, line, size=14, fill=ink, weight="bold" if current else "")
        for i, line in enumerate(lines)
    )
    if current:
        # Colour is never the only signal: the current state also says so in words.
        parts.append(_text(box.cx, box.y - 8, "● current state", size=13, fill=INK, weight="b"))
    parts.append("</g>")
    return "".join(parts)


def _arrow(points: str, *, colour: str = GREY, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (
        f'<path d="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}'
        f' marker-end="url(#arrow-{"red" if colour == RED else "grey"})"/>'
    )


def _labelled(x: float, y: float, name: TransitionName, *, colour: str = INK) -> str:
    title, rules = _label(name)
    return _text(x, y, title, size=12, fill=colour, weight="b") + _text(
        x, y + 14, rules, size=11, fill=GREY
    )


def _edges(boxes: dict[State, Box]) -> list[str]:
    out: list[str] = []
    right = BOX_W
    # Forward steps between neighbours on the main lane.
    for name, source, target in (
        (
            TransitionName.CONFIRM_IMAGING_ELIGIBILITY,
            State.CONSERVATIVE_CARE,
            State.IMAGING_ELIGIBLE,
        ),
        (TransitionName.SCHEDULE_ESI, State.IMAGING_ELIGIBLE, State.ESI),
        (TransitionName.REFER_TO_SPECIALIST, State.ESI, State.SPECIALIST_REFERRAL),
        (TransitionName.BEGIN_SURGICAL_REVIEW, State.SPECIALIST_REFERRAL, State.SURGICAL_REVIEW),
        (TransitionName.PLAN_SURGERY, State.SURGICAL_REVIEW, State.SURGERY),
        (TransitionName.DECLARE_REFRACTORY, State.SURGERY, State.REFRACTORY),
    ):
        assert source in TRANSITIONS[name].sources  # noqa: S101 - the picture follows the table
        a, b = boxes[source], boxes[target]
        y = a.cy - 6
        out.append(_arrow(f"M{a.x + right:.0f},{y:.0f} L{b.x - 2:.0f},{y:.0f}"))
        out.append(_labelled((a.x + right + b.x) / 2, a.y + BOX_H + 20, name))
    # Referral straight from earlier states: arcs over the lane.
    refer = TRANSITIONS[TransitionName.REFER_TO_SPECIALIST]
    target = boxes[refer.target]
    for height, source in ((100, State.CONSERVATIVE_CARE), (62, State.IMAGING_ELIGIBLE)):
        if source not in refer.sources:
            continue
        a = boxes[source]
        out.append(
            _arrow(
                f"M{a.cx:.0f},{a.y:.0f} C{a.cx:.0f},{a.y - height:.0f}"
                f" {target.cx - 20:.0f},{target.y - height:.0f}"
                f" {target.cx - 20:.0f},{target.y - 2:.0f}"
            )
        )
    a = boxes[State.CONSERVATIVE_CARE]
    out.append(_labelled((a.cx + target.cx) / 2, a.y - 108, TransitionName.REFER_TO_SPECIALIST))
    # Back from surgical review: a dashed arc over the lane.
    decline = TRANSITIONS[TransitionName.DECLINE_SURGERY]
    a, b = boxes[State.SURGICAL_REVIEW], boxes[decline.target]
    out.append(
        _arrow(
            f"M{a.cx:.0f},{a.y:.0f} C{a.cx:.0f},{a.y - 56:.0f}"
            f" {b.cx + 36:.0f},{b.y - 56:.0f} {b.cx + 36:.0f},{b.y - 2:.0f}",
            dashed=True,
        )
    )
    out.append(_labelled((a.cx + b.cx) / 2 + 18, a.y - 62, TransitionName.DECLINE_SURGERY))
    # The urgent lane: every escalating state drops onto one red line that leads down to
    # urgent escalation (a tick from the middle of each box clears the step labels).
    urgent = boxes[State.URGENT_ESCALATION]
    escalate = TRANSITIONS[TransitionName.ESCALATE]
    bus_y = MAIN_Y + BOX_H + 64
    ticks = [
        boxes[s].cx - (30 if s == State.SPECIALIST_REFERRAL else 0)
        for s in MAIN_LANE
        if s in escalate.sources
    ]
    out.extend(
        f'<path d="M{x:.0f},{MAIN_Y + BOX_H:.0f} L{x:.0f},{bus_y:.0f}" stroke="{RED}"'
        ' stroke-width="2" fill="none"/>'
        for x in ticks
    )
    out.append(
        f'<path d="M{min(ticks):.0f},{bus_y:.0f} L{max(ticks):.0f},{bus_y:.0f}" stroke="{RED}"'
        ' stroke-width="2" fill="none"/>'
    )
    out.append(
        _arrow(f"M{urgent.cx:.0f},{bus_y:.0f} L{urgent.cx:.0f},{urgent.y - 2:.0f}", colour=RED)
    )
    out.append(_labelled(urgent.cx + 44, bus_y + 36, TransitionName.ESCALATE, colour=RED))
    care = boxes[TRANSITIONS[TransitionName.CLEAR_ESCALATION].target]
    out.append(
        _arrow(
            f"M{urgent.x - 2:.0f},{urgent.cy:.0f} C{care.cx - 40:.0f},{urgent.cy:.0f}"
            f" {care.cx - 40:.0f},{care.y + BOX_H + 40:.0f}"
            f" {care.cx - 40:.0f},{care.y + BOX_H + 2:.0f}",
            dashed=True,
        )
    )
    out.append(_labelled(care.cx + 10, urgent.cy + 40, TransitionName.CLEAR_ESCALATION))
    s = boxes[State.SPECIALIST_REFERRAL]
    out.append(
        _arrow(
            f"M{urgent.x + BOX_W + 2:.0f},{urgent.cy:.0f} C{s.cx + 8:.0f},{urgent.cy:.0f}"
            f" {s.cx + 8:.0f},{urgent.cy:.0f} {s.cx + 8:.0f},{s.y + BOX_H + 2:.0f}",
            colour=RED,
        )
    )
    out.append(
        _text(
            urgent.x + BOX_W + 130,
            urgent.cy + 24,
            f"{labels.transition(TransitionName.REFER_TO_SPECIALIST.value)} (urgent)",
            size=12,
            fill=RED,
            weight="b",
        )
    )
    # clear_escalation has two targets: conservative care, or specialist care once a
    # referral has been made (careflow.states.TransitionSpec.target_after_referral).
    after = TRANSITIONS[TransitionName.CLEAR_ESCALATION].target_after_referral
    if after is not None:
        out.append(
            _text(
                urgent.x + BOX_W + 130,
                urgent.cy + 40,
                f"{labels.transition(TransitionName.CLEAR_ESCALATION.value)} after a"
                f" referral: back to {labels.state(after.value).lower()}",
                size=11,
                fill=GREY,
            )
        )
    return out


def pathway_svg(current: str | None = None, *, element_id: str = "pathway") -> str:
    """The whole picture as one ``<svg>`` element; ``current`` marks the episode's state.

    Drawn once per state and language (the words are the active language's).
    """
    return _drawn(current, element_id, get_language())


@lru_cache(maxsize=64)
def _drawn(current: str | None, element_id: str, _language: str | None) -> str:
    boxes = _boxes()
    urgent = boxes[State.URGENT_ESCALATION]
    lane_top = urgent.y - 34
    title = "The lumbosacral radiculopathy pathway"
    desc = (
        "Left to right: conservative care, imaging eligible, ESI, specialist referral, surgical"
        " review, surgery, refractory. Below, set apart: urgent escalation, reached from the"
        " pre-referral states by a red flag and left by an urgent referral or by clearing the"
        " escalation (back to conservative care, or to specialist referral once referred)."
        " Every active state can also be resolved or closed."
    )
    if current:
        desc += f" The episode is in {str(labels.state(current)).lower()}."
    terminal = ", ".join(
        str(labels.state(s.value)).lower() for s in State if s not in NON_TERMINAL_STATES
    )
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
            f' role="img" aria-labelledby="{element_id}-title {element_id}-desc" id="{element_id}"'
            ' font-family="Arial, Helvetica, sans-serif" class="pathway">'
        ),
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<desc id="{element_id}-desc">{escape(desc)}</desc>',
        "<defs>",
        *(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
            f' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
            f' fill="{colour}"/></marker>'
            for name, colour in (("grey", GREY), ("red", RED))
        ),
        "</defs>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(
            WIDTH / 2,
            24,
            "Conservative care  →  imaging, injection  →  specialist  →  surgery",
            size=15,
            weight="b",
        ),
        (
            f'<rect x="{LEFT / 2:.0f}" y="{lane_top:.0f}" width="{COLUMN * 3.4:.0f}"'
            f' height="{HEIGHT - lane_top - 12:.0f}"'
            f' rx="10" fill="none" stroke="{RED}" stroke-width="1.5" stroke-dasharray="4 4"/>'
        ),
        (
            f'<text x="{LEFT:.0f}" y="{HEIGHT - 24:.0f}" font-size="13" fill="{RED}"'
            ' font-weight="bold">'
            "Urgent lane: a red flag skips every wait (URG-1)</text>"
        ),
        *_edges(boxes),
        *(_state_box(box, current=box.state.value == current) for box in boxes.values()),
        (
            f'<text x="{WIDTH - LEFT:.0f}" y="{HEIGHT - 40:.0f}" font-size="12" fill="{INK}"'
            f' text-anchor="end">From every active state: Resolve → resolved, Close → closed'
            f" (no guard).</text>"
        ),
        (
            f'<text x="{WIDTH - LEFT:.0f}" y="{HEIGHT - 22:.0f}" font-size="12" fill="{GREY}"'
            f' text-anchor="end">Terminal states: {escape(terminal)}. Dashed arrows go back a step.'
            "</text>"
        ),
    ]
    if current in {s.value for s in State} and State(current) not in NON_TERMINAL_STATES:
        parts.append(
            _text(
                WIDTH - 150,
                MAIN_Y - 70,
                f"● current state: {labels.state(current)}",
                size=14,
                weight="b",
            )
        )
    parts.append("</svg>")
    return "".join(parts)
