"""The queue board: every queue's count, and every urgent episode nobody has acted on yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from api.audit import record_shown
from careflow import rules
from careflow.urgency import ACTED_ON_RANK
from episodes.selectors import QUEUES, RowFilters, queue_counts_up_to, queue_page_rows
from workspace import labels
from workspace.views.common import signed_in
from workspace.views.rows import members_by_team, row_summary, team_zone

# Queues in the order the board shows them: urgent first, overdue referrals next.
BOARD_ORDER = (
    "urgent",
    "overdue",
    "due_soon",
    "reassessment_due",
    "delivery_failures",
    "unread_replies",
)
# The urgent episodes nobody has acted on are listed in full up to this many (one bounded
# query); beyond it the board says how many more the urgent queue holds.
BOARD_URGENT_LIMIT = 100
# A queue card's count goes this far, then says "100+" (the queue's page says how many more).
BOARD_COUNT_UP_TO = 100


def _since(request: HttpRequest) -> datetime | None:
    """When the board asking again was drawn (its ``since``), so it can say what is new."""
    moment = parse_datetime(request.GET.get("since", "")[:40])
    return moment if moment is not None and moment.tzinfo is not None else None


def _board_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    # Counted up to BOARD_COUNT_UP_TO each ("100+"), the urgent queue whole: one statement
    # whose every count reads at most that many index entries (one aggregate over all the
    # team's episodes read every one of them: 240 ms at 1M).
    counts = queue_counts_up_to(
        user=user, now=now, at_most=BOARD_COUNT_UP_TO, exact=frozenset({"urgent"})
    )
    order = [*BOARD_ORDER, *(name for name in QUEUES if name not in BOARD_ORDER)]
    # PATHWAY.md "Order of the urgent queue": the ones not acted on (careflow.urgency's
    # ranks 0 and 1) in the queue's own order, the longest waiting first within each rank.
    rows = queue_page_rows(
        "urgent",
        None,
        user=user,
        now=now,
        before=False,
        limit=BOARD_URGENT_LIMIT + 1,
        filters=RowFilters(urgent_rank_below=ACTED_ON_RANK),
    )
    more = len(rows) > BOARD_URGENT_LIMIT
    rows = rows[:BOARD_URGENT_LIMIT]
    record_shown(request, (row["patient_id"] for row in rows))
    members = members_by_team(user)
    listed = []
    for row in rows:
        summary = row_summary(row, now)
        assignee = row["assigned_to_id"]
        summary["assignee"] = (
            dict(members.get(row["care_team_id"], [])).get(str(assignee), f"#{assignee}")
            if assignee
            else ""
        )
        summary["mine"] = assignee == user.pk
        listed.append(summary)
    since = _since(request)
    new = [r for r, row in zip(listed, rows, strict=True) if since and row["urgent_since"] > since]
    return {
        "queues": [
            {
                "name": name,
                "label": labels.queue(name),
                "count": min(counts[name], BOARD_COUNT_UP_TO),
                "more": counts[name] > BOARD_COUNT_UP_TO,
            }
            for name in order
        ],
        # RF-1 and RF-2 (careflow.urgency.MOST_URGENT_CATEGORIES) apart from RF-3, RF-4, RF-5.
        "emergency": [r for r in listed if r["urgent_rank"] == 0],
        "others": [r for r in listed if r["urgent_rank"] != 0],
        "emergency_title": _("Emergency: %(rf1)s or %(rf2)s")
        % {
            "rf1": labels.category(rules.RF_1),
            "rf2": labels.category(rules.RF_2),
        },
        "others_title": _("Other red flags: %(rf)s")
        % {"rf": ", ".join(labels.category(rf) for rf in (rules.RF_3, rules.RF_4, rules.RF_5))},
        "not_acted_on": len(listed),
        "more": more,
        "acted_on": counts["urgent"] - len(listed) if not more else None,
        "urgent_count": counts["urgent"],
        "news": _news(new),
        "refreshed_at": now,
        # The board's own clock: the care team's zone, named on the page.
        "checked_at": timezone.localtime(now, ZoneInfo(zone := team_zone(user))).strftime(
            "%H:%M:%S"
        ),
        "checked_zone": zone,
        "poll_seconds": settings.WORKSPACE_BOARD_POLL_SECONDS,
    }


def _news(new: list[dict[str, Any]]) -> str:
    """What the board's polite live region says: only the urgent episodes new since last time."""
    if not new:
        return ""
    names = "; ".join(
        ", ".join([r["patient"].display_name, *(f["category_label"] for f in r["active_flags"])])
        for r in new
    )
    return ngettext(
        "New urgent episode: %(names)s.", "%(n)d new urgent episodes: %(names)s.", len(new)
    ) % {"n": len(new), "names": names}


@require_GET
@signed_in
def board(request: HttpRequest) -> HttpResponse:
    """The queue board; htmx asks for its body again every 20 s and morphs in what changed."""
    context = _board_context(request)
    if request.htmx:
        return render(request, "workspace/partials/board_body.html", context)
    return render(request, "workspace/board.html", context)
