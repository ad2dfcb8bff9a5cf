"""The order of the urgent queue (PATHWAY.md "Order of the urgent queue").

The queue never hides a row; its order ranks attention and never lowers anyone's urgency.
Most urgent first:

1. episodes not yet acted on (no urgent referral since their active flags were raised)
   before those waiting on specialist care;
2. then RF-1 (cauda equina) and RF-2 (progressive deficit) before RF-3, RF-4 and RF-5;
3. then the longest waiting first (the queue's ``urgent_since``, then id).

The queues without an order of their own (unassigned, mine, each state's) list their
urgent episodes first by the same ranks, then by the next deadline (``pressing_order``).

The first two steps are ``urgent_rank`` (0 to 3), stored with the episode after every
write, so a page of the queue is one ordered index range.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from careflow import rules
from careflow.facts import Facts

# Cauda equina and a progressive motor deficit: an emergency within the emergency.
MOST_URGENT_CATEGORIES: Final = frozenset({rules.RF_1, rules.RF_2})
# The first rank of the episodes acted on (waiting on specialist care): the ranks below it,
# 0 (RF-1/RF-2) and 1 (RF-3/4/5), are the ones nobody has acted on yet.
ACTED_ON_RANK: Final = 2
# Where an episode outside the urgent queue ranks in "most pressing first" (after every
# urgent one): the order of the queues without one of their own (``pressing_order``).
NOT_URGENT_RANK: Final = 4


def acted_on(facts: Facts) -> bool:
    """An urgent referral has been made since every active flag was raised.

    PATHWAY.md counts from "the earliest active flag"; a flag raised after the referral
    (it escalated the episode again and has a deadline of its own) is not acted on by it,
    so the episode ranks as not yet acted on until the referral that follows: the reading
    that never ranks a new, unanswered flag below the ones already answered. An episode
    without an active flag (a red-flag report on a closed episode, say) is not acted on.
    """
    if not facts.active_red_flags or facts.referral_made_on is None:
        return False
    return not any(facts.raised_after_referral(flag) for flag in facts.active_red_flags)


def urgent_rank(facts: Facts) -> int:
    """0 (not acted on, RF-1/RF-2) to 3 (waiting on specialist care, RF-3/4/5).

    The categories are the active flags' and that of an unreviewed red-flag report.
    """
    categories = {flag.category for flag in facts.active_red_flags}
    if facts.unreviewed_report_rule:
        categories.add(facts.unreviewed_report_rule)
    severe = bool(categories & MOST_URGENT_CATEGORIES)
    return (ACTED_ON_RANK if acted_on(facts) else 0) + (0 if severe else 1)


def pressing_order(
    rank: int | None, next_deadline: date | None, episode_id: int
) -> tuple[int, date, int]:
    """Most pressing first, for a queue without an order of its own (unassigned, mine, a state's).

    ``rank``: the episode's ``urgent_rank`` while it is in the urgent queue, else None. Every
    urgent episode first, in the urgent queue's own ranks; then the soonest next deadline
    (the most overdue first); then episodes with no deadline; then the oldest. Urgency
    is never ranked below a deadline: an urgent episode is first wherever it is listed.
    """
    return (
        NOT_URGENT_RANK if rank is None else rank,
        date.max if next_deadline is None else next_deadline,
        episode_id,
    )
