"""A queue's page, and the row actions that redraw one of its rows in place.

Taking or assigning an episode and marking a reply read answer an htmx request with the
row alone (``rows.queue_row``); without JavaScript they redirect back to the page.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.request import Request

from api.audit import record_shown
from api.pagination import KeysetPagination
from careflow.states import State
from episodes import services
from episodes.models import Episode
from episodes.selectors import (
    MAX_ID,
    QUEUES,
    RowFilters,
    episode_get_for,
    episode_row,
    queue_get,
    queue_page_rows,
    search_terms,
)
from notifications.selectors import reply_get_for, unread_replies
from notifications.services import reply_mark_read
from workspace import labels
from workspace.views.common import error_sentences, signed_in
from workspace.views.episode import episode_page
from workspace.views.rows import queue_row, row_page

User = get_user_model()

QUEUE_PAGE_SIZE = 25
# A queue page's rows and one row (the htmx answer to an assignment): Jinja2 templates
# (workspace/jinja2/), the same markup at a fifth of the Django engine's cost.
ROWS_TEMPLATE = "workspace/partials/queue_rows.html"
ROW_TEMPLATE = "workspace/partials/queue_row.html"
READ_ROW_TEMPLATE = "workspace/partials/queue_row_read.html"
# A queue table's columns (workspace/templates/workspace/queue.html), without a queue's own.
QUEUE_COLUMNS = 8


@require_GET
@signed_in
def queue(request: HttpRequest, name: str) -> HttpResponse:
    now = timezone.now()
    show = request.GET.get("show", "all")
    state = request.GET.get("state", "")
    filters: dict[str, Any] = {}
    if show == "mine":
        filters["assigned_to"] = request.user.pk
    elif show == "unassigned":
        filters["unassigned"] = True
    if state in State.__members__.values():
        filters["state"] = state
    text = request.GET.get("q", "").strip()[:100]
    if text:
        born, words = search_terms(text)
        filters |= {"born": born} if born is not None else {"words": words}
    ordering = queue_get(name).ordering  # 404 for an unknown queue, before the cursor is read
    fetch = partial(
        queue_page_rows, name, user=request.user, now=now, filters=RowFilters(**filters)
    )

    def read(pager: KeysetPagination, drf_request: Request) -> list[dict[str, Any]]:
        return pager.paginate_rows(fetch, ordering=ordering, model=Episode, request=drf_request)

    pager = KeysetPagination()
    pager.page_size = QUEUE_PAGE_SIZE
    error = ""
    try:
        page = read(pager, Request(request))
    except DrfValidationError:
        error = _("That page link is no longer valid; showing the first page.")
        pager = KeysetPagination()
        pager.page_size = QUEUE_PAGE_SIZE
        page = read(pager, Request(_without_cursor(request)))
    record_shown(request, (row["patient_id"] for row in page))
    shared = row_page(request)
    rows = [queue_row(row, shared, now) for row in page]
    context = {
        "queue_name": name,
        "queue_label": labels.queue(name),
        "rows": rows,
        # The rows by Jinja2 (workspace/jinja2/, autoescaped): safe to print as they are.
        "rows_html": mark_safe(  # noqa: S308 - escaped by Jinja2's autoescape
            render_to_string(
                ROWS_TEMPLATE,
                {
                    "rows": rows,
                    "words": shared.words,
                    "csrf_field": shared.csrf_field,
                    "next_path": request.get_full_path(),
                    "queue_name": name,
                },
                request=request,
                using="jinja2",
            )
        ),
        "reply_column": any(row["has_reply"] for row in rows),
        "next_link": pager.get_paginated_response([]).data["next"],
        "previous_link": pager.get_paginated_response([]).data["previous"],
        "show": show,
        "state": state,
        "q": text,
        "states": [(s.value, labels.state(s.value)) for s in State],
        "error": error,
    }
    return render(request, "workspace/queue.html", context)


def _without_cursor(request: HttpRequest) -> HttpRequest:
    """The same request without the paging parameters (a stale or edited link)."""
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page_size", None)
    request.GET = query
    return request


@require_POST
@signed_in
def episode_assign(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Take an episode, or assign it to a colleague of its care team, in place."""
    episode = episode_get_for(request.user, episode_id)
    raw = request.POST.get("assigned_to", "")
    error = ""
    assignee = None
    if raw == "me":
        assignee = request.user
    elif raw.isdigit() and 0 < int(raw) <= MAX_ID:
        assignee = User.objects.filter(pk=int(raw)).first()
    if raw and assignee is None:
        error = _("Not a member of the episode's care team.")
    else:
        try:
            services.episode_update(
                episode_id=episode.pk, by=request.user, fields={"assigned_to": assignee}
            )
        except ValidationError as exc:
            error = " ".join(error_sentences(exc))
    if request.htmx:
        return _row_again(request, episode.pk, error=error, status=400 if error else 200)
    if error:
        return episode_page(request, episode_id, status=400, problem={"summary": error})
    return redirect(request.POST.get("next") or reverse("workspace:episode", args=[episode_id]))


def _row_again(
    request: HttpRequest, episode_id: int, *, error: str = "", status: int = 200
) -> HttpResponse:
    """The row as the queue page shows it (one query), for an htmx swap in place.

    The page names its queue (``queue``), so the row keeps that queue's own columns (the
    reply of unread_replies); 404 as ``episode_get_for`` would.
    """
    name = request.POST.get("queue", "")
    name = name if name in QUEUES else ""
    fresh = episode_row(request.user, episode_id, queue=name or None)
    if fresh is None:
        raise Http404
    shared = row_page(request)
    return render(
        request,
        ROW_TEMPLATE,
        {
            "row": queue_row(fresh, shared, timezone.now()),
            "words": shared.words,
            "csrf_field": shared.csrf_field,
            "row_error": error,
            "next_path": request.POST.get("next", ""),
            "queue_name": name,
        },
        status=status,
        using="jinja2",
    )


@require_POST
@signed_in
def reply_read(request: HttpRequest, episode_id: int, reply_id: int) -> HttpResponse:
    """Mark a patient's SMS reply read; in a queue's row in place, else back where it was.

    Already read: nothing changes and the answer is the same (the API's idempotence).
    """
    episode = episode_get_for(request.user, episode_id)
    reply = reply_get_for(episode, reply_id)
    reply_mark_read(episode_id=episode.pk, reply_id=reply.pk, by=request.user)
    if request.htmx:
        if (
            request.POST.get("queue") == "unread_replies"
            and not unread_replies(episode.pk).exists()
        ):
            # Nothing left to read here: the row says so in place of leaving the queue.
            return render(
                request,
                READ_ROW_TEMPLATE,
                {
                    "id": str(episode.pk),
                    "name": episode.patient.display_name,
                    "url": reverse("workspace:episode", args=[episode.pk]),
                    "text": _("reply marked as read; nothing else to read from this patient."),
                    "columns": QUEUE_COLUMNS + 1,
                },
                using="jinja2",
            )
        return _row_again(request, episode.pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("workspace:episode", args=[episode.pk]) + "?done=reply_read#replies"
    return redirect(back)
