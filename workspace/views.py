"""The workspace's pages: function-based views, one per page, htmx branches as plain ifs.

Every read goes through ``episodes.selectors`` (care-team scoping: another team's episode
is a 404) and every write through ``episodes.services`` or ``workspace.services``, exactly
as the API does; the input is validated by the API's own serializers (``workspace.forms``).
The audit middleware records each request that names an episode (``episode_id`` in the
URL), reads and writes alike. A refused write re-renders the episode page with the
status the API would answer (400, 403, 409, 422) and the refusal in sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial, wraps
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.request import Request

from api.audit import record_shown
from api.pagination import KeysetPagination
from api.serializers.inputs import (
    TRANSITION_INPUT,
    AssessmentInputSerializer,
    CarePlanItemInputSerializer,
    EpisodeCreateInputSerializer,
    ImagingInputSerializer,
    PatientCreateInputSerializer,
    RedFlagInputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
)
from careflow.careplan import CATALOGUE
from careflow.redflags import CATEGORY_LABEL, CATEGORY_OF_SIGN, DERIVED_SIGNS, Sign
from careflow.states import State, TransitionName
from episodes import services
from episodes.models import CareTeamMembership, Episode
from episodes.selectors import (
    MAX_ID,
    QUEUES,
    RowFilters,
    care_plan_for,
    care_teams_for,
    episode_get_for,
    episode_pathway_view,
    episode_row,
    episode_timeline,
    patient_today,
    queue_counts,
    queue_get,
    queue_page_rows,
    red_flag_get_for,
    red_flag_report_get_for,
    red_flag_reports_to_review,
    row_facts,
    row_flags,
    row_next_action,
    row_today,
)
from notifications.channels import patient_reach
from notifications.selectors import episode_reminders, reply_get_for, unread_replies
from notifications.services import reply_mark_read
from workspace import labels
from workspace.forms import build_fields, submitted, validate
from workspace.models import OutreachNote
from workspace.pathway_svg import pathway_svg
from workspace.services import outreach_note_add

User = get_user_model()

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
QUEUE_PAGE_SIZE = 25
# A queue page's rows and one row (the htmx answer to an assignment): Jinja2 templates
# (workspace/jinja2/), the same markup at a fifth of the Django engine's cost (issue 16).
ROWS_TEMPLATE = "workspace/partials/queue_rows.html"
ROW_TEMPLATE = "workspace/partials/queue_row.html"
READ_ROW_TEMPLATE = "workspace/partials/queue_row_read.html"
# A queue table's columns (workspace/templates/workspace/queue.html), without a queue's own.
QUEUE_COLUMNS = 8


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required; an htmx request whose session has ended sends the page to log in.

    Without it, the board's polling would swap the login page into the board itself.
    """
    guarded = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            return HttpResponseClientRedirect(reverse("workspace:login"))
        return guarded(request, *args, **kwargs)

    return wrapper


# -- the board ----------------------------------------------------------------------------------


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
        "urgent_preview": [_row(row, now) for row in urgent],
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


# -- a queue ------------------------------------------------------------------------------------


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _search(text: str) -> dict[str, Any]:
    """By date of birth (2026-01-31 or 31/01/2026) or by every word of the name (four)."""
    born = _parse_date(text)
    if born is not None:
        return {"born": born}
    return {"words": tuple(text.split()[:4])}


def _row(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What a queue row shows; every figure comes from careflow, as on the API's pages.

    From a row of ``episodes.selectors.queue_rows`` (a page is one query, the API's page query).
    """
    today = row_today(row, now)
    flags = row_flags(row)
    facts = row_facts(row, flags)
    deadline = row["next_deadline"]
    return {
        "episode": SimpleNamespace(pk=row["id"], assigned_to_id=row["assigned_to_id"]),
        "patient": SimpleNamespace(
            display_name=f"{row['given_name']} {row['family_name']}", birth_date=row["birth_date"]
        ),
        "age": labels.age(row["birth_date"], today),
        "state": labels.state(row["state"]),
        "days_since_onset": facts.days_since_onset(today),
        "days_of_care": facts.days_of_conservative_care(today),
        "deadline": deadline,
        "deadline_rule": row["next_deadline_rule"],
        "overdue": deadline is not None and deadline < today,
        "next_action": labels.next_action(row_next_action(row["state"], facts, today)),
        # Which flag, in words, and how long ago it was raised (PATHWAY.md "Order of the
        # urgent queue"); a patient's red-flag report waiting for review, the same way.
        "active_flags": [
            {
                "sign": labels.sign(f["sign"]),
                "category": f["category"],
                "category_label": labels.category(f["category"]),
                "ago": labels.ago(datetime.fromisoformat(f["raised_at"]), now),
            }
            for f in flags
        ],
        "report": (
            {
                "category_label": labels.category(row["report_review_rule"]),
                "ago": labels.ago(row["report_review_since"], now),
            }
            if row["report_review_since"] is not None
            else None
        ),
    }


# Numbers no id reaches: reversed once a page, then replaced by each row's ids.
_ID_MARK = 987654321987654321
_REPLY_MARK = 987654321987654322


def _id_url(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[id])`` for many ids at the cost of one ``reverse``.

    A queue page linked each of its 25 rows five times through ``{% url %}``; the
    reversing was an eighth of the page's time (cProfile, issue 16).
    """
    head, _, tail = reverse(name, args=[_ID_MARK]).rpartition(str(_ID_MARK))
    return lambda pk: f"{head}{pk}{tail}"


def _reply_read_url() -> Callable[[int, int], str]:
    """``reverse("workspace:reply-read", args=[episode, reply])`` at the cost of one."""
    head, _, rest = reverse("workspace:reply-read", args=[_ID_MARK, _REPLY_MARK]).partition(
        str(_ID_MARK)
    )
    middle, _, tail = rest.partition(str(_REPLY_MARK))
    return lambda pk, reply: f"{head}{pk}{middle}{reply}{tail}"


@dataclass(frozen=True)
class _RowPage:
    """What every row of a queue page shares, worked out once a page (issue 16)."""

    user_id: int
    members: dict[int, list[tuple[str, str]]]
    episode_url: Callable[[int], str]
    assign_url: Callable[[int], str]
    read_url: Callable[[int, int], str]
    # The queue the page shows ("" for none): a row drawn again keeps its queue's columns.
    queue: str
    # The row template's words, translated once a page: a {% translate %} per row and word
    # was a sixth of the page's time (in-process CPU time, issue 16).
    words: dict[str, str]
    # The CSRF field, masked once: Jinja2's ``csrf_input`` masks a new token at each use (a
    # random string per form, 50 a page).
    csrf_field: str


def _row_page(request: HttpRequest, queue: str = "") -> _RowPage:
    return _RowPage(
        user_id=request.user.pk,
        csrf_field=csrf_input(request),
        members=_members_by_team(request.user),
        episode_url=_id_url("workspace:episode"),
        assign_url=_id_url("workspace:assign"),
        read_url=_reply_read_url(),
        queue=queue,
        words={
            "red_flag": _("Red flag"),
            "raised": _("raised"),
            "reported_again": _("Patient report to review:"),
            "overdue": _("Overdue"),
            "nobody": _("nobody"),
            "take": _("Take"),
            "assign": _("Assign"),
            "born": _("born %(born)s"),
            "assign_to": _("Assign %(name)s to"),
            "received": _("received"),
            "mark_read": _("Mark as read"),
            "reply_from": _("reply from %(name)s"),
        },
    )


def _queue_row(row: Mapping[str, Any], page: _RowPage, now: datetime) -> dict[str, Any]:
    """A row with its team's members, its links and its sentences, ready to print as they are.

    Ids, links, words and the assignee's choices are text here, so the row template prints
    them without a lookup, a number format, a ``{% url %}`` or a translation each (issue 16).
    """
    team = page.members.get(row["care_team_id"], [])
    assignee = row["assigned_to_id"]
    pk = row["id"]
    name = f"{row['given_name']} {row['family_name']}"
    return {
        **_row(row, now),
        "id": str(pk),
        "url": page.episode_url(pk),
        "assign_url": page.assign_url(pk),
        "born": page.words["born"] % {"born": row["birth_date"].isoformat()},
        "deadline_text": row["next_deadline"].isoformat() if row["next_deadline"] else "",
        "assign_to": page.words["assign_to"] % {"name": name},
        "members": team,
        "assigned": str(assignee) if assignee else "",
        "mine": assignee == page.user_id,
        "assignee": dict(team).get(str(assignee), f"#{assignee}") if assignee else "",
        "has_reply": "reply" in row,
        "reply": _reply(row.get("reply"), pk, page),
        "reply_from": page.words["reply_from"] % {"name": name},
    }


def _reply(reply: Mapping[str, Any] | None, pk: int, page: _RowPage) -> dict[str, Any] | None:
    """A queue row's unread reply (the unread_replies queue's own column), ready to print."""
    if reply is None:
        return None
    received = reply["received_at"]
    received = parse_datetime(received) if isinstance(received, str) else received
    return {
        "text": reply["text"],
        "received": timezone.localtime(received).strftime("%Y-%m-%d %H:%M"),
        "url": page.read_url(pk, reply["id"]),
    }


def _members_by_team(user: Any) -> dict[int, list[tuple[str, str]]]:  # noqa: ANN401 - the auth user
    """Who an episode of each of the user's teams may be assigned to, as (id, name) text.

    One query of plain values, by username as before.
    """
    teams = care_teams_for(user).values("pk")
    out: dict[int, list[tuple[str, str]]] = {}
    for team_id, user_id, username in (
        CareTeamMembership.objects.filter(team_id__in=teams)
        .order_by("user__username")
        .values_list("team_id", "user_id", f"user__{User.USERNAME_FIELD}")
    ):
        out.setdefault(team_id, []).append((str(user_id), username))
    return out


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
        filters |= _search(text)
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
    shared = _row_page(request, name)
    rows = [_queue_row(row, shared, now) for row in page]
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
            error = " ".join(_messages(exc))
    if request.htmx:
        return _row_again(request, episode.pk, error=error, status=400 if error else 200)
    if error:
        return _episode_page(request, episode_id, status=400, problem={"summary": error})
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
    shared = _row_page(request, name)
    return render(
        request,
        ROW_TEMPLATE,
        {
            "row": _queue_row(fresh, shared, timezone.now()),
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


# -- an episode ---------------------------------------------------------------------------------

TRANSITION_CHOICE_LABELS = {"urgency": labels.URGENCY}


def _transition_forms(
    episode_id: int, view: dict[str, Any], bound: dict[str, Any]
) -> list[dict[str, Any]]:
    out = []
    for t in view["available_transitions"]:
        name = TransitionName(t["name"])
        prefix = f"t-{name.value}"
        values, errors = bound.get(prefix, ({}, {}))
        out.append(
            {
                **t,
                "label": labels.transition(name.value),
                "target_label": labels.state(t["target"]),
                "fields": build_fields(
                    TRANSITION_INPUT[name],
                    prefix=prefix,
                    values=values,
                    errors=errors,
                    choice_labels=TRANSITION_CHOICE_LABELS,
                ),
                "url": reverse("workspace:transition", args=[episode_id, name.value]),
                "reasons": [{**r, "opens_on": r.get("opens_on")} for r in t["reasons"]],
            }
        )
    return out


def _timeline(episode: Episode, notes: list[OutreachNote]) -> list[dict[str, Any]]:
    read_url = _reply_read_url()
    events = [
        {
            "at": e.at,
            "kind_label": labels.event_kind(e.kind),
            "by": e.by,
            "source": e.source,
            "text": labels.event(e),
            # An unread reply can be marked read where it shows.
            "read_url": (
                read_url(episode.pk, e.data["reply"])
                if "reply" in e.data and not e.data["read_at"]
                else ""
            ),
        }
        for e in episode_timeline(episode)
    ]
    events += [
        {
            "at": n.at,
            "kind_label": labels.event_kind("outreach"),
            "by": n.by.get_username(),
            "source": "user",
            "text": f"{n.get_kind_display()}" + (f": {n.note}" if n.note else ""),
        }
        for n in notes
    ]
    return sorted(events, key=lambda e: e["at"], reverse=True)


def _episode_context(
    request: HttpRequest, episode_id: int, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    bound = bound or {}
    episode = episode_get_for(request.user, episode_id)
    patient = episode.patient
    today = patient_today(patient)
    view = episode_pathway_view(episode, today)
    notes = list(
        OutreachNote.objects.filter(episode_id=episode.pk).select_related("by").order_by("at")
    )
    signs = [
        (
            s.value,
            f"{labels.sign(s.value)} ({CATEGORY_OF_SIGN[s]} {CATEGORY_LABEL[CATEGORY_OF_SIGN[s]]})",
        )
        for s in Sign
        if s not in DERIVED_SIGNS
    ]
    flags = sorted(episode.red_flags.all(), key=lambda f: (f.status != "active", f.raised_at))
    now = timezone.now()
    reach = patient_reach(patient)

    def form(serializer: Any, prefix: str, **kwargs: Any) -> list[Any]:  # noqa: ANN401
        values, errors = bound.get(prefix, ({}, {}))
        return build_fields(serializer, prefix=prefix, values=values, errors=errors, **kwargs)

    facts_values = bound.get("assess", ({**view["facts"]}, {}))[0]
    return {
        "episode": episode,
        "patient": patient,
        "age": labels.age(patient.birth_date, today),
        "local_time": timezone.now().astimezone(_zone(patient.timezone)),
        "today": today,
        "state_label": labels.state(episode.state),
        "view": view,
        "pathway": pathway_svg(episode.state, element_id="pathway"),
        "deadlines": [{**d, "label": labels.deadline(d["kind"])} for d in view["deadlines"]],
        "next_actions": [labels.next_action(a) for a in view["next_actions"]],
        "facts": [(labels.label_for(k), v) for k, v in view["facts"].items()],
        "transitions": _transition_forms(episode.pk, view, bound),
        "flags": [
            {
                "flag": f,
                "label": labels.sign(f.sign),
                "category_label": CATEGORY_LABEL.get(f.category, ""),
                "ago": labels.ago(f.raised_at, now),
                "rule_out_fields": form(
                    RedFlagUpdateInputSerializer, f"ruleout-{f.pk}", exclude=("status",)
                ),
            }
            for f in flags
        ],
        "reports": [
            {
                "report": r,
                "label": labels.sign(r.sign),
                "category_label": labels.category(r.category),
                "ago": labels.ago(r.reported_at, now),
                "review_fields": form(RedFlagReportReviewInputSerializer, f"review-{r.pk}"),
            }
            for r in red_flag_reports_to_review(episode)
        ],
        "raise_fields": form(RedFlagInputSerializer, "flag", choice_labels={"sign": dict(signs)}),
        "assess_fields": build_fields(
            AssessmentInputSerializer,
            prefix="assess",
            values=facts_values,
            errors=bound.get("assess", ({}, {}))[1],
        ),
        "imaging": list(episode.imaging.all()),
        "imaging_fields": form(ImagingInputSerializer, "imaging"),
        "care_plan": [
            {"item": i, "label": labels.plan_item(i.item), "evidence": CATALOGUE[i.item].evidence}
            for i in care_plan_for(episode)
            if i.item in CATALOGUE
        ],
        "care_plan_fields": form(
            CarePlanItemInputSerializer,
            "plan",
            choice_labels={"item": {k: labels.plan_item(k) for k in CATALOGUE}},
        ),
        "reminders": list(episode_reminders(episode).prefetch_related("deliveries")),
        "reach": reach,
        "preferred_channel_label": labels.channel(patient.preferred_channel),
        "reach_channel_label": labels.channel(reach.channel or ""),
        "unread_replies": [
            {"reply": r, "url": reverse("workspace:reply-read", args=[episode.pk, r.pk])}
            for r in unread_replies(episode.pk)
        ],
        "timeline": _timeline(episode, notes),
        "outreach_kinds": OutreachNote._meta.get_field("kind").choices,  # noqa: SLF001
        "outreach_values": bound.get("outreach", ({}, {}))[0],
        "outreach_errors": bound.get("outreach", ({}, {}))[1],
        "seen_at": timezone.now().isoformat(),
    }


def _zone(name: str) -> Any:  # noqa: ANN401 - a tzinfo
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - only for the banner

    return ZoneInfo(name)


def _episode_page(
    request: HttpRequest,
    episode_id: int,
    *,
    status: int = 200,
    problem: dict[str, Any] | None = None,
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    context = _episode_context(request, episode_id, bound)
    context["problem"] = problem
    return render(request, "workspace/episode.html", context, status=status)


@require_GET
@signed_in
def episode(request: HttpRequest, episode_id: int) -> HttpResponse:
    return _episode_page(request, episode_id)


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{labels.label_for(field)}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return list(exc.messages)


def _changes_since(episode: Episode, seen: str) -> list[str]:
    """What happened to the episode after the user's page was drawn (for a 409)."""
    since = parse_datetime(seen or "")
    if since is None:
        return []
    return [
        f"{labels.event(e)}" + (f" — {e.by}" if e.by else "")
        for e in episode_timeline(episode)
        if e.at > since
    ]


def _refusal(exc: Exception, episode: Episode, seen_at: str) -> tuple[int, dict[str, Any]] | None:
    """The status the API answers for a service's refusal, and what the page says."""
    if isinstance(exc, services.GuardFailedError):
        return 422, {
            "summary": _("This was refused by the pathway. Nothing was changed."),
            "reasons": [r.as_dict() for r in exc.reasons],
        }
    if isinstance(exc, services.StaleVersionError | services.InvalidTransitionError):
        summary = (
            _(
                "Someone else changed this episode while you had it open. Nothing was"
                " changed; the page now shows the episode as it is."
            )
            if isinstance(exc, services.StaleVersionError)
            else _(
                "That step is not possible from the episode's current state. Nothing was"
                " changed; the page now shows the episode as it is."
            )
        )
        return 409, {
            "summary": summary,
            "detail": str(exc),
            "changes": _changes_since(episode, seen_at),
        }
    if isinstance(exc, services.NotPermittedError):
        return 403, {"summary": str(exc)}
    if isinstance(exc, services.TransitionError):  # any other refusal the services may add
        return 409, {"summary": str(exc)}
    return None


def _write(
    request: HttpRequest,
    episode_id: int,
    *,
    prefix: str,
    values: dict[str, Any],
    call: Callable[[], Any],
    done: str,
) -> HttpResponse:
    """Run a service call; on refusal re-render the episode page saying why, as the API."""
    episode = episode_get_for(request.user, episode_id)
    try:
        call()
    except services.TransitionError as exc:
        status, problem = _refusal(exc, episode, request.POST.get("seen_at", "")) or (409, {})
        return _episode_page(request, episode_id, status=status, problem=problem)
    except ValidationError as exc:
        errors = getattr(exc, "message_dict", {"__all__": exc.messages})
        problem = {"summary": _("Please correct the following."), "messages": _messages(exc)}
        return _episode_page(
            request, episode_id, status=400, problem=problem, bound={prefix: (values, errors)}
        )
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    url = reverse("workspace:episode", args=[episode_id])
    return redirect(f"{url}?done={done}#top")


def _invalid(
    request: HttpRequest, episode_id: int, prefix: str, values: dict[str, Any], errors: dict
) -> HttpResponse:
    problem = {
        "summary": _("Please correct the following."),
        "messages": [f"{labels.label_for(k)}: {' '.join(v)}" for k, v in errors.items()],
        "anchor": prefix,
    }
    return _episode_page(
        request, episode_id, status=400, problem=problem, bound={prefix: (values, errors)}
    )


@require_POST
@signed_in
def transition(request: HttpRequest, episode_id: int, name: str) -> HttpResponse:
    episode_get_for(request.user, episode_id)
    if name not in TransitionName.__members__.values():
        raise Http404
    serializer = TRANSITION_INPUT[TransitionName(name)]
    raw = submitted(serializer, request.POST, exclude=("version",))
    data, errors = validate(serializer, raw)
    prefix = f"t-{name}"
    if data is None:
        return _invalid(request, episode_id, prefix, raw, errors)
    version = request.POST.get("version", "")
    return _write(
        request,
        episode_id,
        prefix=prefix,
        values=raw,
        call=lambda: services.episode_transition(
            episode_id=episode_id,
            name=name,
            by=request.user,
            version=int(version) if version.isdigit() else None,
            data=data,
        ),
        done=name,
    )


def _simple_write(
    request: HttpRequest,
    episode_id: int,
    *,
    serializer: Any,  # noqa: ANN401 - a serializer class
    prefix: str,
    service: Callable[..., Any],
    done: str,
    exclude: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    episode = episode_get_for(request.user, episode_id)
    raw = submitted(serializer, request.POST, exclude=exclude)
    data, errors = validate(serializer, {**raw, **(extra or {})})
    if data is None:
        return _invalid(request, episode_id, prefix, raw, errors)
    for key in extra or {}:
        data.pop(key, None)
    return _write(
        request,
        episode_id,
        prefix=prefix,
        values=raw,
        call=lambda: service(episode_id=episode.pk, by=request.user, data=data),
        done=done,
    )


@require_POST
@signed_in
def red_flag_raise(request: HttpRequest, episode_id: int) -> HttpResponse:
    return _simple_write(
        request,
        episode_id,
        serializer=RedFlagInputSerializer,
        prefix="flag",
        service=lambda episode_id, by, data: services.red_flag_raise(
            episode_id=episode_id, by=by, **data
        ),
        done="red_flag_raised",
    )


@require_POST
@signed_in
def red_flag_rule_out(request: HttpRequest, episode_id: int, flag_id: int) -> HttpResponse:
    flag = red_flag_get_for(episode_get_for(request.user, episode_id), flag_id)
    return _simple_write(
        request,
        episode_id,
        serializer=RedFlagUpdateInputSerializer,
        prefix=f"ruleout-{flag.pk}",
        service=lambda episode_id, by, data: services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode_id, by=by, note=data.get("note", "")
        ),
        done="red_flag_ruled_out",
        exclude=("status",),
        extra={"status": "ruled_out"},
    )


@require_POST
@signed_in
def red_flag_report_review(request: HttpRequest, episode_id: int, report_id: int) -> HttpResponse:
    report = red_flag_report_get_for(episode_get_for(request.user, episode_id), report_id)
    return _simple_write(
        request,
        episode_id,
        serializer=RedFlagReportReviewInputSerializer,
        prefix=f"review-{report.pk}",
        service=lambda episode_id, by, data: services.red_flag_report_review(
            episode_id=episode_id, report_id=report.pk, by=by, note=data.get("note", "")
        ),
        done="red_flag_report_reviewed",
    )


@require_POST
@signed_in
def assessment_record(request: HttpRequest, episode_id: int) -> HttpResponse:
    def record(episode_id: int, by: Any, data: dict[str, Any]) -> Any:  # noqa: ANN401
        note = data.pop("note", "")
        return services.assessment_record(episode_id=episode_id, by=by, values=data, note=note)

    return _simple_write(
        request,
        episode_id,
        serializer=AssessmentInputSerializer,
        prefix="assess",
        service=record,
        done="assessment",
    )


@require_POST
@signed_in
def imaging_record(request: HttpRequest, episode_id: int) -> HttpResponse:
    return _simple_write(
        request,
        episode_id,
        serializer=ImagingInputSerializer,
        prefix="imaging",
        service=lambda episode_id, by, data: services.imaging_record(
            episode_id=episode_id, by=by, **data
        ),
        done="imaging",
    )


@require_POST
@signed_in
def care_plan_add(request: HttpRequest, episode_id: int) -> HttpResponse:
    return _simple_write(
        request,
        episode_id,
        serializer=CarePlanItemInputSerializer,
        prefix="plan",
        service=lambda episode_id, by, data: services.care_plan_item_add(
            episode_id=episode_id, by=by, **data
        ),
        done="care_plan",
    )


@require_POST
@signed_in
def outreach_add(request: HttpRequest, episode_id: int) -> HttpResponse:
    episode = episode_get_for(request.user, episode_id)
    values = {"kind": request.POST.get("kind", ""), "note": request.POST.get("note", "")}
    return _write(
        request,
        episode_id,
        prefix="outreach",
        values=values,
        call=lambda: outreach_note_add(episode_id=episode.pk, by=request.user, **values),
        done="outreach",
    )


# -- enrolment -----------------------------------------------------------------------------------

ENROL_EXCLUDE = ("patient", "care_team", "assigned_to")


@require_http_methods(["GET", "POST"])
@signed_in
def enrol(request: HttpRequest) -> HttpResponse:
    """A patient and their episode in one form, validated as the API validates both."""
    teams = list(care_teams_for(request.user))
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    summary: list[str] = []
    if request.method == "POST":
        patient_raw = submitted(PatientCreateInputSerializer, request.POST, exclude=("care_team",))
        episode_raw = submitted(EpisodeCreateInputSerializer, request.POST, exclude=ENROL_EXCLUDE)
        # At enrolment an unticked fact is not known yet: only ticked ones are recorded.
        episode_raw = {k: v for k, v in episode_raw.items() if v is not False}
        values = {**patient_raw, **episode_raw}
        patient_data, patient_errors = validate(PatientCreateInputSerializer, patient_raw)
        episode_data, episode_errors = validate(
            EpisodeCreateInputSerializer, {**episode_raw, "patient": 1}
        )
        errors = {**patient_errors, **episode_errors}
        team = next((t for t in teams if str(t.pk) == request.POST.get("care_team")), None)
        if team is None and len(teams) == 1:
            team = teams[0]
        if team is None:
            errors["care_team"] = [_("Choose one of your care teams.")]
        if not errors and patient_data is not None and episode_data is not None:
            episode_data.pop("patient")
            patient_data.setdefault("timezone", settings.TIME_ZONE)
            try:
                with transaction.atomic():
                    patient = services.patient_create(care_team=team, **patient_data)
                    created = services.episode_create(
                        patient=patient, by=request.user, **episode_data
                    )
            except ValidationError as exc:
                errors = dict(getattr(exc, "message_dict", {"__all__": exc.messages}))
            else:
                url = reverse("workspace:episode", args=[created.pk])
                return redirect(f"{url}?done=enrolled#top")
        summary = [f"{labels.label_for(k)}: {' '.join(v)}" for k, v in errors.items()]
    context = {
        "teams": teams,
        "team_value": request.POST.get("care_team", ""),
        "team_errors": errors.get("care_team", []),
        "patient_fields": build_fields(
            PatientCreateInputSerializer,
            prefix="enrol",
            values=values or {"timezone": settings.TIME_ZONE},
            errors=errors,
            exclude=("care_team",),
        ),
        "episode_fields": build_fields(
            EpisodeCreateInputSerializer,
            prefix="enrol",
            values=values,
            errors=errors,
            exclude=ENROL_EXCLUDE,
        ),
        "summary": summary,
        "error_ids": [f"enrol-{k}" for k in errors],
    }
    return render(request, "workspace/enrol.html", context, status=400 if summary else 200)


@require_GET
def pathway_picture(request: HttpRequest) -> HttpResponse:  # noqa: ARG001 - Django's signature
    """The pathway picture alone (image/svg+xml), as docs/pathway.svg has it."""
    return HttpResponse(pathway_svg(), content_type="image/svg+xml")
