"""The arithmetic of the adherence report (PATHWAY.md "Adherence figures"): pure, typed.

Medians and percentiles use the nearest-rank method on the sorted values (p90 of ten
values is the ninth): every figure is one of the observed values, never an interpolation
a reader cannot find among the episodes behind it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

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


def percentile_of_counts(counts: Mapping[Any, int], pct: float) -> Any:  # noqa: ANN401
    """``percentile`` of the values a histogram (value -> how many) holds, without expanding it.

    The same nearest-rank value: the smallest whose running count reaches the rank.
    """
    total = sum(counts.values())
    if total <= 0:
        return None
    if not 0 <= pct <= 100:  # noqa: PLR2004 - a percentage
        msg = f"percentile {pct} is not within 0..100"
        raise ValueError(msg)
    rank = max(1, math.ceil(pct / 100 * total))
    running = 0
    for value in sorted(v for v, n in counts.items() if n):
        running += counts[value]
        if running >= rank:
            return value
    return None  # unreachable: the running count reaches the total


Key = tuple[Any, ...]


@dataclass
class Tally:
    """Counts that add up across cohorts: everything a report's figures are computed from.

    Each name holds a histogram (key tuple -> count): the values behind a median as
    ``(value,) -> how many``, a date a figure turns on as ``(zone, iso date) -> how many``.
    Two cohorts' tallies added are the tally of both, so medians and 90th percentiles of
    the whole come out exactly as from the rows. Keys are JSON's scalars (dates as ISO
    strings, which sort as the dates do) so a tally stored as JSON reads back unchanged.
    """

    counts: dict[str, Counter[Key]] = field(default_factory=dict)

    def add(self, name: str, *key: Any, n: int = 1) -> None:
        self.counts.setdefault(name, Counter())[key] += n

    def get(self, name: str) -> Counter[Key]:
        return self.counts.get(name, Counter())

    def total(self, name: str) -> int:
        return sum(self.get(name).values())

    def by_first(self, name: str) -> dict[Any, Counter[Any]]:
        """``name``'s ``(first, value)`` histogram as ``first -> (value -> count)``."""
        out: dict[Any, Counter[Any]] = {}
        for (first, value), n in self.get(name).items():
            out.setdefault(first, Counter())[value] += n
        return out

    def merge(self, other: Tally) -> Tally:
        for name, counts in other.counts.items():
            # update, not +: a flow change may be negative and must still add up.
            self.counts.setdefault(name, Counter()).update(counts)
        return self

    def to_json(self) -> dict[str, list[list[Any]]]:
        return {
            name: [[*key, n] for key, n in counts.items() if n]
            for name, counts in sorted(self.counts.items())
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[Sequence[Any]]]) -> Tally:
        return cls(
            {
                name: Counter({tuple(row[:-1]): row[-1] for row in rows})
                for name, rows in data.items()
            }
        )


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


def referral_deadline(state: State, facts: Facts) -> Deadline | None:
    """The episode's referral deadline (REF-1..3, RF), whatever other deadlines it has.

    The CC-1 reassessment may be due earlier and is not a referral deadline.
    """
    return next((d for d in deadlines(state, facts) if d.kind == SPECIALIST_REFERRAL), None)


def overdue_referral(state: State, facts: Facts, today: date) -> Deadline | None:
    """The episode's referral deadline (REF-1..3, RF) when it has passed with no referral."""
    found = referral_deadline(state, facts)
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


def state_changes(
    enrolled_on: date, initial: str, moves: Sequence[Move]
) -> Iterator[tuple[date, str, int]]:
    """Where one episode's stays begin (+1) and end (-1), each clamped to its enrolment.

    An episode is in a state at the end of a day when its stay began on or before that day
    and ends after it; a stay that ends before it begins (a move dated before enrolment)
    counts nowhere.
    """
    state, since = initial, enrolled_on
    for move in [*moves, None]:
        begins = max(since, enrolled_on)
        ends = None if move is None else max(move.on, enrolled_on)
        if ends is None or begins < ends:
            yield begins, state, 1
            if ends is not None:
                yield ends, state, -1
        if move is not None:
            state, since = move.to_state, move.on


def states_from_changes(
    days: Sequence[date], changes: Mapping[tuple[str, str], int]
) -> list[dict[str, int]]:
    """How many episodes were in each state at the end of each of ``days`` (ascending).

    ``changes`` is ``(iso date, state) -> episodes entering minus leaving`` (``state_changes``
    summed): the count on a day is every change on or before it. States in name order.
    """
    events = sorted((day, state, n) for (day, state), n in changes.items() if n)
    running: dict[str, int] = {}
    out: list[dict[str, int]] = []
    index = 0
    for day in days:
        key = day.isoformat()
        while index < len(events) and events[index][0] <= key:
            _, state, n = events[index]
            running[state] = running.get(state, 0) + n
            index += 1
        out.append({state: n for state, n in sorted(running.items()) if n})
    return out


def states_on_days(days: Sequence[date], episodes: Iterable[History]) -> list[dict[str, int]]:
    """How many episodes were in each state at the end of each of ``days`` (ascending).

    An episode enrolled after a day is not counted on it. One pass over each episode's
    stays, whatever the number of days.
    """
    changes: Counter[tuple[str, str]] = Counter()
    for enrolled_on, initial, moves in episodes:
        for day, state, n in state_changes(enrolled_on, initial, moves):
            changes[day.isoformat(), state] += n
    return states_from_changes(days, changes)


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
