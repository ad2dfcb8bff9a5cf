"""The arithmetic of the adherence report (issue 17): pure, typed, no database.

Medians and percentiles use the nearest-rank method on the sorted values (p90 of ten
values is the ninth): every figure is one of the observed values, never an interpolation
a reader cannot find among the episodes behind it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from careflow import rules
from careflow.dates import SIX_WEEKS, TWO_WEEKS, three_months_after

SECONDS_PER_HOUR = 3600


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0..100); ``None`` when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= pct <= 100:  # noqa: PLR2004 - a percentage
        msg = f"percentile {pct} is not within 0..100"
        raise ValueError(msg)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float | None:
    """The nearest-rank 50th percentile (the lower middle of an even count)."""
    return percentile(values, 50)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to four places; ``None`` when there is nothing to divide."""
    if whole <= 0:
        return None
    return round(part / whole, 4)


@dataclass(frozen=True, slots=True)
class Interval:
    """A red flag active from its raised date to the day before it was ruled out."""

    start: date
    ruled_out_on: date | None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.ruled_out_on is None or day < self.ruled_out_on)


def is_low_value_imaging(
    performed_on: date, conservative_care_start: date, flags: Sequence[Interval]
) -> bool:
    """IM-2 / CC-1: imaging before day 42 of conservative care with no red flag active."""
    early = performed_on < conservative_care_start + SIX_WEEKS
    return early and not any(flag.covers(performed_on) for flag in flags)


def referral_rule_group(due_rule: str) -> str:
    """REF-1, REF-2, REF-3 as themselves; every red-flag category (RF-1..RF-5) as RF."""
    if due_rule.startswith("RF"):
        return rules.RF
    return due_rule


def finding_date(due_rule: str, due_on: date, symptom_onset: date) -> date:
    """The date of the finding a referral deadline counts from (PATHWAY.md "REF")."""
    group = referral_rule_group(due_rule)
    if group == rules.REF_1:
        return symptom_onset
    if group == rules.REF_2:
        return due_on - TWO_WEEKS
    return due_on  # REF-3 and red flags: due the day the finding is recorded


def on_time(made_on: date, due_on: date) -> bool:
    """Met when the referral is made on or before its due date (the last day counts)."""
    return made_on <= due_on


def hours_to_referral(
    raised_at: datetime, ruled_out_at: datetime | None, referrals_at: Iterable[datetime]
) -> float | None:
    """Hours from a red flag to the first referral made at or after it.

    A referral made before the flag does not answer it, nor one made after the flag was
    ruled out; ``None`` when no referral answered it.
    """
    later = [at for at in referrals_at if at >= raised_at]
    if not later or (ruled_out_at is not None and ruled_out_at < min(later)):
        return None
    return round((min(later) - raised_at).total_seconds() / SECONDS_PER_HOUR, 2)


def education_within_two_weeks(conservative_care_start: date, recorded: Iterable[date]) -> bool:
    """CC-2: education on the plan by day 14 of conservative care (day 14 included)."""
    return any(day <= conservative_care_start + TWO_WEEKS for day in recorded)


def resolved_by_three_months(symptom_onset: date, resolved_on: date | None) -> bool:
    """Resolved on or before ``symptom_onset`` + 3 calendar months."""
    return resolved_on is not None and resolved_on <= three_months_after(symptom_onset)


@dataclass(frozen=True, slots=True)
class Move:
    """One transition-log row: on ``on`` (patient-local) the episode entered ``to_state``."""

    on: date
    from_state: str
    to_state: str


def states_on(day: date, episodes: Iterable[tuple[date, str, Sequence[Move]]]) -> dict[str, int]:
    """How many episodes were in each state at the end of ``day``.

    Each episode is (enrolled_on, initial state, its moves in order); episodes enrolled after
    ``day`` are not counted.
    """
    counts: dict[str, int] = {}
    for enrolled_on, initial, moves in episodes:
        if enrolled_on > day:
            continue
        state = initial
        for move in moves:
            if move.on > day:
                break
            state = move.to_state
        counts[state] = counts.get(state, 0) + 1
    return counts


def days_in_states(enrolled_on: date, initial: str, moves: Sequence[Move]) -> list[tuple[str, int]]:
    """The completed stays of one episode: (state, days) for each state it has left."""
    stays: list[tuple[str, int]] = []
    state, since = initial, enrolled_on
    for move in moves:
        stays.append((state, (move.on - since).days))
        state, since = move.to_state, move.on
    return stays


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from ``start`` to ``end``, ``end`` itself closing the last."""
    out: list[date] = []
    day = start
    while day <= end:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = following - timedelta(days=1)
        out.append(min(last, end))
        day = following
    return out
