"""A queue row: what it shows, worked out here so the row template prints it as it is.

The queue page draws 25 rows and the row actions (``queue.episode_assign``,
``queue.reply_read``) draw one again, from the same dicts; the board lists the urgent
rows nobody has acted on yet (``row_summary``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from markupsafe import Markup, escape

from episodes.selectors import (
    care_teams_for,
    row_facts,
    row_flags,
    row_next_action,
    row_today,
    team_members,
)
from workspace import labels

User = get_user_model()


def row_summary(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What a queue row shows; every figure comes from careflow, as on the API's pages.

    From a row of ``episodes.selectors.queue_rows`` (a page is one query, the API's page query).
    """
    today = row_today(row, now)
    flags = row_flags(row)
    facts = row_facts(row, flags)
    deadline = row["next_deadline"]
    return {
        "urgent_rank": row["urgent_rank"],
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


# Reversed in place of an id: above PostgreSQL's bigint, so no episode or reply has it.
STAND_IN_ID = 10**19


def link_format(name: str, ids: int = 1) -> str:
    """``reverse(name, args=[...])`` as a format string with ``{}`` where each id goes.

    Reversed once a page: ``reverse`` costs about 11 µs and a page of 25 rows has 50 links
    (75 in unread_replies), 0.5-0.8 ms a page against 0.05 ms this way (timeit).
    """
    return reverse(name, args=[STAND_IN_ID] * ids).replace(str(STAND_IN_ID), "{}")


@dataclass(frozen=True)
class RowPage:
    """What every row of a queue page shares, worked out once a page."""

    user_id: int
    members: dict[int, list[tuple[str, str]]]
    # Each team's assignee <option>s, escaped once a page (a row's select marks its own):
    # printed option by option they were 1 600 escapes a page, a third of the rows' time.
    options: dict[int, Markup]
    # Each team's names by user id (text), for the row's assignee.
    names: dict[int, dict[str, str]]
    # Each row's links, as ``link_format`` gives them: ``episode_link.format(pk)``.
    episode_link: str
    assign_link: str
    reply_read_link: str
    # The row template's words, translated once a page: a {% translate %} per row and word
    # was a sixth of the page's time (in-process CPU time).
    words: dict[str, str]
    # The CSRF field, masked once: Jinja2's ``csrf_input`` masks a new token at each use (a
    # random string per form, 50 a page).
    csrf_field: str
    # The active language (the key of the words worked out once a process).
    language: str | None


def row_page(request: HttpRequest) -> RowPage:
    language = get_language()
    members = members_by_team(request.user)
    return RowPage(
        user_id=request.user.pk,
        csrf_field=csrf_input(request),
        members=members,
        options={
            team: Markup("").join(
                Markup('<option value="{}">{}</option>').format(v, n) for v, n in people
            )
            for team, people in members.items()
        },
        names={team: dict(people) for team, people in members.items()},
        episode_link=link_format("workspace:episode"),
        assign_link=link_format("workspace:assign"),
        reply_read_link=link_format("workspace:reply-read", ids=2),
        words=_row_words(language),
        language=language,
    )


@cache
def _row_words(language: str | None) -> dict[str, str]:  # noqa: ARG001 - the cache key
    """The row template's words in ``language``, translated once a process and language."""
    return {
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
        "assign_to_short": _("Assign to"),
        "save": _("Save"),
        "you": _("you"),
        "take_name": _("Take %(name)s"),
        "assign_name": _("Assign %(name)s"),
        "has_it": _("%(who)s has this patient."),
        "take_from": _("Take from %(who)s"),
        "cancel": _("Cancel"),
        "patient": _("Patient"),
        "reply_to_read": _("Reply to read"),
        "failed_reminder": _("Reminder that did not go"),
        "age": _("Age"),
        "state": _("State"),
        "days_since_onset": _("Days since onset"),
        "days_of_care": _("Days of conservative care"),
        "next_deadline": _("Next deadline"),
        "next_action": _("Next action"),
        "who": _("Who has it"),
        "why": _("why:"),
    }


def queue_row(row: Mapping[str, Any], page: RowPage, now: datetime) -> dict[str, Any]:
    """A row with its team's members, its links and its sentences, ready to print as they are.

    Ids, links, words and the assignee's choices are text here, so the row template prints
    them without a lookup, a number format, a URL or a translation each.
    """
    team = row["care_team_id"]
    assignee = row["assigned_to_id"]
    pk = row["id"]
    name = f"{row['given_name']} {row['family_name']}"
    return {
        **row_summary(row, now),
        "id": str(pk),
        "url": page.episode_link.format(pk),
        "assign_url": page.assign_link.format(pk),
        "born": page.words["born"] % {"born": row["birth_date"].isoformat()},
        "deadline_text": row["next_deadline"].isoformat() if row["next_deadline"] else "",
        "assign_to": page.words["assign_to"] % {"name": name},
        "member_options": _selected(page.options.get(team, Markup("")), assignee),
        "assigned": str(assignee) if assignee else "",
        "mine": assignee == page.user_id,
        "assignee": page.names.get(team, {}).get(str(assignee), f"#{assignee}") if assignee else "",
        "has_reply": "reply" in row,
        "reply": _reply(row.get("reply"), pk, page),
        "reply_from": page.words["reply_from"] % {"name": name},
        "has_failures": "failures" in row,
        "failures": [_failure(f, page.language) for f in row.get("failures") or ()],
        "take_label": page.words["take_name"] % {"name": name},
        "assign_label": page.words["assign_name"] % {"name": name},
    }


def _failure(reminder: Mapping[str, Any], language: str | None) -> dict[str, str]:
    """A failed or skipped reminder of the delivery_failures queue: which, and why."""
    why = reminder["status_reason"] or reminder["last_error"] or ""
    error = reminder["last_error"] or ""
    if error and error != why:
        why = f"{why}; {error}" if why else error
    what, status = _failure_words(
        language,
        labels.reminder_milestone_kind(reminder["milestone"]),
        reminder["audience"],
        reminder["channel"],
        reminder["status"],
    )
    return {"what": what, "status": status, "why": why}


@lru_cache(maxsize=1024)  # bounded: a code outside the models' choices is not kept forever
def _failure_words(
    language: str | None,  # noqa: ARG001 - the cache key
    milestone: str,
    audience: str,
    channel: str,
    status: str,
) -> tuple[str, str]:
    """Which reminder and its status in words, once a process and language for each.

    A delivery_failures page shows a reminder or two a row, four translated words each; the
    codes are the models' choices (an alert's milestone by its kind), so the cache is small.
    """
    return labels.reminder(milestone, audience, channel), capfirst(labels.reminder_status(status))


def _reply(reply: Mapping[str, Any] | None, pk: int, page: RowPage) -> dict[str, Any] | None:
    """A queue row's unread reply (the unread_replies queue's own column), ready to print."""
    if reply is None:
        return None
    received = reply["received_at"]
    received = parse_datetime(received) if isinstance(received, str) else received
    return {
        "text": reply["text"],
        "received": timezone.localtime(received).strftime("%Y-%m-%d %H:%M"),
        "url": page.reply_read_link.format(pk, reply["id"]),
    }


def _selected(options: Markup, assignee: int | None) -> Markup:
    """A team's ``options`` with the assignee's marked ``selected`` (none if not a member)."""
    if not assignee:
        return options
    chosen = f'<option value="{escape(str(assignee))}">'
    return Markup(str(options).replace(chosen, chosen[:-1] + " selected>", 1))  # noqa: S704 - escaped above


def members_by_team(user: Any) -> dict[int, list[tuple[str, str]]]:  # noqa: ANN401 - the auth user
    """Who an episode of each of the user's teams may be assigned to, as (id, name) text."""
    out: dict[int, list[tuple[str, str]]] = {}
    for team_id, user_id, username in team_members(user):
        out.setdefault(team_id, []).append((str(user_id), username))
    return out


def team_zone(user: Any) -> str:  # noqa: ANN401 - the auth user
    """The time zone the user's care teams work in, when they share one; else the server's.

    The clock a page's own times (the board's "as of") are told in, named beside them.
    """
    zones = list(care_teams_for(user).values_list("timezone", flat=True).distinct()[:2])
    return zones[0] if len(zones) == 1 else settings.TIME_ZONE
