"""The queue board: every queue's count and the first urgent episodes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from api.audit import record_shown
from episodes.selectors import QUEUES, queue_counts, queue_page_rows
from workspace import labels
from workspace.views.common import signed_in
from workspace.views.rows import row_summary

# Queues in the order the board shows them: urgent first, overdue referrals next.
BOARD_ORDER = (
    "urgent",
    "overdue",
    "due_soon",
    "reassessment_due",
    "delivery_failures",
    "unread_replies",
)
BOARD_PREVIEW = 5


def _board_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    counts = {row["name"]: row["count"] for row in queue_counts(user=user)}
    order = [*BOARD_ORDER, *(name for name in QUEUES if name not in BOARD_ORDER)]
    now = timezone.now()
    urgent = queue_page_rows("urgent", None, user=user, now=now, before=False, limit=BOARD_PREVIEW)
    record_shown(request, (row["patient_id"] for row in urgent))
    return {
        "queues": [
            {"name": name, "label": labels.queue(name), "count": counts[name]} for name in order
        ],
        "urgent_preview": [row_summary(row, now) for row in urgent],
        "urgent_count": counts["urgent"],
        "refreshed_at": timezone.now(),
        "poll_seconds": settings.WORKSPACE_BOARD_POLL_SECONDS,
    }


@require_GET
@signed_in
def board(request: HttpRequest) -> HttpResponse:
    """The queue board; htmx re-asks for its body every 20 s, so new urgent work appears."""
    context = _board_context(request)
    if request.htmx:
        return render(request, "workspace/partials/board_body.html", context)
    return render(request, "workspace/board.html", context)
