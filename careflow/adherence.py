"""The arithmetic of the adherence report (PATHWAY.md "Adherence figures"): pure, typed.

Medians and percentiles use the nearest-rank method on the sorted values (p90 of ten
values is the ninth): every figure is one of the observed values, never an interpolation
a reader cannot find among the episodes behind it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from careflow import rules
from careflow.dates import SIX_WEEKS, TWO_WEEKS, three_months_after
from careflow.deadlines import SPECIALIST_REFERRAL, Deadline, deadlines
from careflow.facts import Facts
from careflow.guards import Reason
from careflow.states import State

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
    """The days a red flag was active: from the day it was raised to the day it was ruled out.

    Both ends count: a flag active for part of a day was active on that day (a study has
    a date, not a moment, so one on the day the flag was ruled out may have come first).
    """

    start: date
    ruled_out_on: date | None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.ruled_out_on is None or day <= self.ruled_out_on)


def counts_for_imaging(performed_on: date, symptom_onset: date) -> bool:
    """A study dated before ``symptom_onset`` documents an earlier episode: not counted."""
    return performed_on >= symptom_onset


def is_low_value_imaging(
    performed_on: date, conservative_care_start: date, flags: Sequence[Interval]
) -> bool:
    """IM-2 / CC-1: imaging before day 42 of conservative care with no red flag active."""
    early = performed_on < conservative_care_start + SIX_WEEKS
    return early and not any(flag.covers(performed_on) for flag in flags)


def imaging_warnings(
    performed_on: date,
    *,
    symptom_onset: date,
    conservative_care_start: date,
    flags: Sequence[Interval],
) -> list[Reason]:
    """What recording this study should tell the care team: IM-2 when it is low-value.

    A warning, never a refusal: the study happened and is recorded. One dated before
    ``symptom_onset`` documents an earlier episode and is not this episode's imaging.
    """
    if not counts_for_imaging(performed_on, symptom_onset):
        return []
    if not is_low_value_imaging(performed_on, conservative_care_start, flags):
        return []
    day = (performed_on - conservative_care_start).days
    return [
        Reason(
            rules.IM_2,
            "no imaging before 42 days of conservative care unless a red flag is active:"
            f" this study is from day {day}, with no red flag active that day. It is"
            " recorded, and counts as low-value imaging in the adherence report",
        )
    ]


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


def overdue_referral(state: State, facts: Facts, today: date) -> Deadline | None:
    """The episode's referral deadline (REF-1..3, RF) when it has passed with no referral.

    The referral deadline itself, whatever other deadlines the episode has: the CC-1
    reassessment may be due earlier and is not a referral deadline.
    """
    found = next((d for d in deadlines(state, facts) if d.kind == SPECIALIST_REFERRAL), None)
    return found if found is not None and found.overdue(today) else None


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


def education_within_two_weeks(enrolled_on: date, recorded: Iterable[date]) -> bool:
    """CC-2: education on the plan within 14 days of enrolment (day 14 included).

    From enrolment, not from ``conservative_care_start``: that may be back-dated to prior
    therapy, before the care team could have educated anyone.
    """
    return any(day <= enrolled_on + TWO_WEEKS for day in recorded)


def started_by(started_on: date | None, today: date) -> bool:
    """A plan item has started: its start date is recorded and is not after ``today``."""
    return started_on is not None and started_on <= today


def fusion_indications(recorded: str) -> list[str]:
    """The SX-5 indications of one fusion plan, stored comma-joined; ``[]`` for none."""
    return [code.strip() for code in recorded.split(",") if code.strip()]


def resolved_by_three_months(symptom_onset: date, resolved_on: date | None) -> bool:
    """Resolved on or before ``symptom_onset`` + 3 calendar months."""
    return resolved_on is not None and resolved_on <= three_months_after(symptom_onset)


@dataclass(frozen=True, slots=True)
class Move:
    """One transition-log row: on ``on`` (patient-local) the episode entered ``to_state``."""

    on: date
    from_state: str
    to_state: str


History = tuple[date, str, Sequence[Move]]  # enrolled_on, initial state, moves in order


def states_on_days(days: Sequence[date], episodes: Iterable[History]) -> list[dict[str, int]]:
    """How many episodes were in each state at the end of each of ``days`` (ascending).

    An episode enrolled after a day is not counted on it. One pass over each episode's
    stays, whatever the number of days: each stay adds one to its state from the first day
    it covers and takes it away from the first day it no longer does.
    """
    changes: list[dict[str, int]] = [{} for _ in range(len(days) + 1)]

    def add(index: int, state: str, n: int) -> None:
        changes[index][state] = changes[index].get(state, 0) + n

    for enrolled_on, initial, moves in episodes:
        state, since = initial, enrolled_on
        for move in [*moves, None]:
            first = bisect_left(days, max(since, enrolled_on))
            until = len(days) if move is None else bisect_left(days, max(move.on, enrolled_on))
            if first < until:
                add(first, state, 1)
                add(until, state, -1)
            if move is not None:
                state, since = move.to_state, move.on
    out: list[dict[str, int]] = []
    running: dict[str, int] = {}
    for change in changes[: len(days)]:
        for state, n in change.items():
            running[state] = running.get(state, 0) + n
        out.append({state: n for state, n in running.items() if n})
    return out


def states_on(day: date, episodes: Iterable[History]) -> dict[str, int]:
    """How many episodes were in each state at the end of ``day``."""
    return states_on_days([day], episodes)[0]


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
