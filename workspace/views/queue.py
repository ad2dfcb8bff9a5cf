"""A queue's page, and the row actions that redraw one of its rows in place.

Taking or assigning an episode and marking a reply read answer an htmx request with the
row alone (``rows.queue_row``); without JavaScript they redirect back to the page.
"""

from __future__ import annotations

from functools import partial
from math import ceil
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
from rest_framework.utils.urls import remove_query_param, replace_query_param

from api.audit import record_shown
from api.pagination import KeysetPagination
from careflow.states import State
from episodes import services
from episodes.models import Episode
from episodes.selectors import (
    MAX_ID,
    QUEUES,
    SORTS,
    RowFilters,
    episode_get_for,
    episode_row,
    queue_get,
    queue_page_count,
    queue_page_rows,
)
from episodes.selectors.access import remember_team_ids, team_id_list
from notifications.selectors import reply_get_for, unread_replies
from notifications.services import reply_mark_read
from workspace import labels
from workspace.views.common import error_sentences, signed_in
from workspace.views.episode import episode_page
from workspace.views.rows import queue_row, row_page

User = get_user_model()

QUEUE_PAGE_SIZE = 25
# A queue page's rows, or one row (the htmx answer to an assignment): a Jinja2 template
# (workspace/jinja2/), the same markup at a fifth of the Django engine's cost.
ROWS_TEMPLATE = "workspace/partials/queue_row.html"
READ_ROW_TEMPLATE = "workspace/partials/queue_row_read.html"
# A queue table's columns (workspace/templates/workspace/queue.html), without a queue's own.
QUEUE_COLUMNS = 8
SHOW = ("all", "mine", "unassigned")
# A queue's total is counted up to this ("more than 100 episodes"): an exact count of a
# queue of tens of thousands at 1M reads every one of them, this the first hundred, in
# the page's own order (bench/results/workspace.json: 0.4-7 ms at 1M).
COUNT_UP_TO = 100


def _sorts() -> list[tuple[str, str]]:
    """The orders a queue page offers: the queue's own first, then ``SORTS``."""
    return [
        ("", _("Most pressing first")),
        ("onset", _("Longest since onset first")),
        ("care", _("Longest in conservative care first")),
    ]


@require_GET
@signed_in
def queue(request: HttpRequest, name: str) -> HttpResponse:
    """A queue's rows, 25 a page in its own order or a coordinator's, with its total.

    Filters and the order are in the URL (who has it, a state the queue can hold, the
    order); no name or date of birth ever is: finding a patient is the header's search.
    """
    now = timezone.now()
    the_queue = queue_get(name)  # 404 for an unknown queue, before the cursor is read
    # The page and its total both scope by the user's teams: read their ids once.
    remember_team_ids(request.user, team_id_list(request.user))
    show = request.GET.get("show", "all")
    show = show if show in SHOW else "all"
    # The filter offers the states the queue can hold; any state asked for is applied.
    states = [s.value for s in the_queue.states]
    state = request.GET.get("state", "")
    state = state if state in State.__members__.values() else ""
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORTS else ""
    filters = RowFilters(
        assigned_to=request.user.pk if show == "mine" else None,
        unassigned=show == "unassigned",
        state=state or None,
    )
    ordering = SORTS[sort] if sort else the_queue.ordering
    fetch = partial(
        queue_page_rows,
        name,
        user=request.user,
        now=now,
        filters=filters,
        ordering=ordering,
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
    total = queue_page_count(
        name, user=request.user, now=now, filters=filters, at_most=COUNT_UP_TO, ordering=ordering
    )
    more = total > COUNT_UP_TO
    size = request.GET.get("page_size", "")  # valid here: the pager refused it otherwise
    size = int(size) if size.isascii() and size.isdigit() and not error else QUEUE_PAGE_SIZE
    pages = None if more else max(1, ceil(total / size))
    number = _page_number(request, pages) if not error else 1
    record_shown(request, (row["patient_id"] for row in page))
    shared = row_page(request)
    rows = [queue_row(row, shared, now) for row in page]
    links = pager.get_paginated_response([]).data
    columns = dict(the_queue.columns)
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
        "reply_column": "reply" in columns and any(row["has_reply"] for row in rows),
        "failure_column": "failures" in columns,
        "total": COUNT_UP_TO if more else total,
        "more": more,
        "page_number": number,
        "pages": pages,
        "next_link": _numbered(links["next"], number + 1 if number else None),
        "previous_link": _numbered(links["previous"], number - 1 if number else None),
        "show": show,
        "state": state,
        "sort": sort,
        "sorts": _sorts(),
        "sort_column": {"onset": "days_since_onset", "care": "days_of_care"}.get(sort, ""),
        "states": [(value, labels.state(value)) for value in states] if len(states) > 1 else [],
        "filtered": show != "all" or bool(state),
        "error": error,
    }
    return render(request, "workspace/queue.html", context)


def _page_number(request: HttpRequest, pages: int | None) -> int | None:
    """Which page this is: 1 without a cursor, else the link's ``page`` (None if it lies).

    Keyset pages have no number of their own; the pager's links carry it beside the cursor.
    ``pages``: how many there are, or None when the queue holds more than ``COUNT_UP_TO``.
    """
    if "cursor" not in request.GET:
        return 1
    raw = request.GET.get("page", "")
    if raw.isascii() and raw.isdigit() and int(raw) >= 1 and (pages is None or int(raw) <= pages):
        return int(raw)
    return None


def _numbered(link: str | None, number: int | None) -> str | None:
    if link is None:
        return None
    if number is None:
        return remove_query_param(link, "page")
    return replace_query_param(link, "page", number)


def _without_cursor(request: HttpRequest) -> HttpRequest:
    """The same request without the paging parameters (a stale or edited link)."""
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page_size", None)
    query.pop("page", None)
    request.GET = query
    return request


@require_POST
@signed_in
def episode_assign(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Take an episode, or assign it to a colleague of its care team, in place.

    Taking a patient a colleague has asks first (check and confirm): the answer is the row
    asking (or, without JavaScript, a page), and only its ``confirm`` takes the patient.
    """
    episode = episode_get_for(request.user, episode_id)
    raw = request.POST.get("assigned_to", "")
    if "cancel" in request.POST:
        if request.htmx:
            return _row_again(request, episode.pk)
        return redirect(_back(request, episode.pk))
    holder = episode.assigned_to_id
    if (
        raw == "me"
        and holder is not None
        and holder != request.user.pk
        and request.POST.get("confirm") != "yes"
    ):
        return _take_confirm(request, episode.pk)
    error = ""
    assignee = None
    if raw == "me":
        assignee = request.user
    elif raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
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
    return redirect(_back(request, episode.pk))


def _back(request: HttpRequest, episode_id: int) -> str:
    """Where a row's form came from (its ``next``), if it is this site's; else the episode."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("workspace:episode", args=[episode_id])


def _take_confirm(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Ask before taking a colleague's patient: the row asking, or a page without JavaScript."""
    if request.htmx:
        return _row_again(request, episode_id, confirm_take=True)
    name = request.POST.get("queue", "")
    fresh = episode_row(request.user, episode_id, queue=name if name in QUEUES else None)
    if fresh is None:
        raise Http404
    row = queue_row(fresh, row_page(request), timezone.now())
    return render(
        request,
        "workspace/take_confirm.html",
        {"row": row, "next_path": _back(request, episode_id), "queue_name": name},
    )


def _row_again(
    request: HttpRequest,
    episode_id: int,
    *,
    error: str = "",
    status: int = 200,
    confirm_take: bool = False,
) -> HttpResponse:
    """The row as the queue page shows it (one query), for an htmx swap in place.

    The page names its queue (``queue``), so the row keeps that queue's own columns (the
    reply of unread_replies); 404 as ``episode_get_for`` would. An assignment made from the
    row's "Assign" list comes back with the list open, its button where focus was.
    """
    name = request.POST.get("queue", "")
    name = name if name in QUEUES else ""
    fresh = episode_row(request.user, episode_id, queue=name or None)
    if fresh is None:
        raise Http404
    shared = row_page(request)
    row = queue_row(fresh, shared, timezone.now())
    return render(
        request,
        ROWS_TEMPLATE,
        {
            "rows": [row],
            "news": _row_news(row, confirm_take=confirm_take, error=error),
            "words": shared.words,
            "csrf_field": shared.csrf_field,
            "row_error": error,
            "next_path": request.POST.get("next", ""),
            "queue_name": name,
            "confirm_take": confirm_take,
            "assign_open": request.POST.get("via") == "assign",
        },
        status=status,
        using="jinja2",
    )


def _row_news(row: dict[str, Any], *, confirm_take: bool, error: str) -> str:
    """What the page's status region says once the row is drawn again (workspace.js)."""
    name = row["patient"].display_name
    if error:
        return ""
    if confirm_take:
        return _("%(who)s has %(name)s. Take from %(who)s, or cancel.") % {
            "who": row["assignee"],
            "name": name,
        }
    if row["mine"]:
        return _("You have %(name)s now.") % {"name": name}
    if row["assignee"]:
        return _("%(name)s is assigned to %(who)s.") % {"name": name, "who": row["assignee"]}
    return _("%(name)s is assigned to nobody.") % {"name": name}


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
