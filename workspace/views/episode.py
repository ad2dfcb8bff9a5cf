"""An episode's page: the work first (why it is urgent, who has it, what to do next).

Top to bottom: the patient banner (every active red flag and report waiting for review,
in words and with its age; who has the episode, with take / assign), the next actions in
careflow's order and the transitions allowed now, outreach, then the record (red flags,
facts, imaging, care plan, reminders, corrections) and the timeline; the pathway picture
last, behind a disclosure. Every time is the patient's local time, and says so.

The forms offer only what can succeed: the referral's urgency only those the rules allow,
and a clinician's decision, to anyone else, names who decides instead of a form that
fails. The forms post to ``episode_writes``; a refused write draws this page again
(``episode_page``) with the status and the refusal in sentences, and a write that needs
a check first (closing, taking a colleague's patient) draws it with the question.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from api.serializers.inputs import (
    TRANSITION_INPUT,
    AssessmentInputSerializer,
    CarePlanItemInputSerializer,
    EpisodeUpdateInputSerializer,
    ImagingInputSerializer,
    PatientUpdateInputSerializer,
    RedFlagInputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
)
from careflow.careplan import CATALOGUE
from careflow.facts import Facts
from careflow.guards import URGENCY_ORDER, required_referral_urgency
from careflow.redflags import CATEGORY_OF_SIGN, DERIVED_SIGNS, Sign
from careflow.states import State, TransitionName
from careflow.urgency import acted_on
from episodes.models import CareTeamMembership, Episode, RedFlagStatus, Role
from episodes.selectors import (
    care_plan_for,
    episode_facts,
    episode_get_for,
    episode_pathway_view,
    episode_timeline,
    imaging_warnings_for,
    patient_today,
    red_flag_reports_to_review,
)
from episodes.selectors.prefetch import rows_of
from notifications.channels import patient_reach
from notifications.selectors import episode_reminders, unread_replies
from workspace import labels
from workspace.forms import Field, build_fields
from workspace.models import OutreachNote
from workspace.pathway_svg import pathway_svg
from workspace.views.common import signed_in

User = get_user_model()

# The timeline's filters (a GET parameter, so they work without JavaScript). The default
# folds the reminders' bookkeeping away: most entries, and rarely what a coordinator wants.
TIMELINE_FILTERS = {
    "": ("clinical", "messages"),
    "clinical": ("clinical",),
    "messages": ("messages",),
    "reminders": ("reminders",),
    "all": ("clinical", "messages", "reminders"),
}
# ESI-2 refuses a blind injection: the form offers the guidance that can succeed.
ESI_GUIDANCE_OFFERED = ("fluoroscopic",)


class Clock:
    """The patient's clock: every time the page shows, in their zone and labelled so."""

    def __init__(self, zone: str) -> None:
        self.zone_name = zone
        self.zone = ZoneInfo(zone)

    def time(self, moment: datetime | None) -> dict[str, str] | None:
        """A moment as the page prints it: the patient's local time, and its ISO value."""
        if moment is None:
            return None
        local = moment.astimezone(self.zone)
        return {"text": local.strftime("%Y-%m-%d %H:%M"), "iso": local.isoformat()}


class People:
    """Users by their full names: the care team's, and anyone else the page names.

    The team's members are one query; names outside it (someone who left the team, a
    superuser) one more, only when there are any.
    """

    def __init__(self, episode: Episode, viewer: Any) -> None:  # noqa: ANN401 - auth user
        rows = rows_of(
            CareTeamMembership,
            where='t."team_id" = %s',
            args=[episode.care_team_id],
            related=("user",),
            order=("user__first_name", "user__last_name", f"user__{User.USERNAME_FIELD}"),
        )
        self.members = [(m.user, m.role) for m in rows]
        self.by_id = {u.pk: u for u, _role in self.members}
        self.by_username = {u.get_username(): u for u, _role in self.members}
        self.viewer = viewer
        self.viewer_is_clinician = viewer.is_superuser or any(
            u.pk == viewer.pk and role == Role.CLINICIAN for u, role in self.members
        )
        self.clinicians = [labels.person(u) for u, role in self.members if role == Role.CLINICIAN]

    def load(self, *, ids: Iterable[int | None], usernames: Iterable[str | None]) -> None:
        """Read the users the page names who are not in the team (one query, if any)."""
        ids = {i for i in ids if i is not None and i not in self.by_id}
        names = {n for n in usernames if n and n not in self.by_username}
        if not ids and not names:
            return
        for user in User.objects.filter(Q(pk__in=ids) | Q(**{f"{User.USERNAME_FIELD}__in": names})):
            self.by_id[user.pk] = user
            self.by_username[user.get_username()] = user

    def name(self, *, user_id: int | None = None, username: str | None = None) -> str:
        user = self.by_id.get(user_id) if user_id is not None else None
        user = user or (self.by_username.get(username) if username else None)
        if user is None:
            return username or ""
        return labels.person(user)

    def who_decides(self) -> str:
        if not self.clinicians:
            return _("A clinician of the care team decides this; the team has none yet.")
        return _("A clinician of the care team decides this: %(names)s.") % {
            "names": ", ".join(self.clinicians)
        }


def _referral_urgency(field: Field, facts: Facts, *, bound: bool) -> None:
    """Offer only the urgencies the rules allow, the required one chosen (REF-2, REF-3, RF)."""
    required = required_referral_urgency(facts)
    if required is None:
        return
    urgency, rule = required
    least = URGENCY_ORDER.index(urgency)
    field.choices = [(v, t) for v, t in field.choices if URGENCY_ORDER.index(v) >= least]
    if not bound:
        field.value = urgency
    why = {
        "REF-2": _("disabling pain is recorded (REF-2)"),
        "REF-3": _("a neurological deficit is recorded (REF-3)"),
    }.get(rule, _("a red flag is active (%(rule)s)") % {"rule": labels.category(rule)})
    field.hint = _("At least %(urgency)s, because %(why)s.") % {
        "urgency": labels.URGENCY[urgency].lower(),
        "why": why,
    }


def _transition_forms(
    episode: Episode, view: dict[str, Any], facts: Facts, people: People, bound: dict[str, Any]
) -> list[dict[str, Any]]:
    out = []
    for t in view["available_transitions"]:
        name = TransitionName(t["name"])
        prefix = f"t-{name.value}"
        values, errors = bound.get(prefix, ({}, {}))
        fields = build_fields(
            TRANSITION_INPUT[name],
            prefix=prefix,
            values=values,
            errors=errors,
            choice_labels=labels.TRANSITION_CHOICES,
        )
        for field in fields:
            if field.name == "urgency":
                _referral_urgency(field, facts, bound=prefix in bound)
            if field.name == "guidance":
                field.choices = [c for c in field.choices if c[0] in ESI_GUIDANCE_OFFERED]
                field.hint = _("ESI-2: a blind injection is refused.")
        # Closing an episode with an active red flag is a clinician's decision too.
        clinician_only = t["clinician_only"] or (
            name == TransitionName.CLOSE and facts.has_active_red_flag
        )
        out.append(
            {
                **t,
                "label": labels.transition(name.value),
                "target_label": labels.state(t["target"]),
                "clinician_only": clinician_only,
                "decided_elsewhere": clinician_only and not people.viewer_is_clinician,
                "fields": fields,
                "url": reverse("workspace:transition", args=[episode.pk, name.value]),
                "reasons": t["reasons"],
            }
        )
    return out


def _timeline(
    episode: Episode, people: People, clock: Clock, shown: str
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The entries the filter shows, newest first, and how many each group has."""
    events = episode_timeline(episode)
    people.load(ids=(), usernames=(e.by for e in events))
    entries = [
        {
            "at": e.at,
            "kind": e.kind,
            "kind_label": labels.event_kind(e.kind),
            "by": people.name(username=e.by) if e.by else labels.source(e.source),
            "text": labels.event(e),
            # An unread reply can be marked read where it shows.
            "read_url": (
                reverse("workspace:reply-read", args=[episode.pk, e.data["reply"]])
                if "reply" in e.data and not e.data["read_at"]
                else ""
            ),
        }
        for e in events
    ]
    counts = dict.fromkeys(("clinical", "messages", "reminders"), 0)
    for entry in entries:
        entry["group"] = labels.TIMELINE_GROUPS.get(entry["kind"], "clinical")
        counts[entry["group"]] += 1
    groups = TIMELINE_FILTERS.get(shown, TIMELINE_FILTERS[""])
    kept = [e for e in entries if e["group"] in groups]
    for entry in kept:
        entry["time"] = clock.time(entry["at"])
    return sorted(kept, key=lambda e: e["at"], reverse=True), counts


def _urgency(
    episode: Episode, facts: Facts, flags: list[Any], reports: list[Any], now: datetime
) -> dict[str, Any]:
    """Why the episode is urgent, in words: every active flag and report, with its age."""
    active = [f for f in flags if f.status == RedFlagStatus.ACTIVE]
    referral = None
    if active and acted_on(facts):
        referral = _("An urgent referral was made on %(day)s: waiting on specialist care.") % {
            "day": facts.referral_made_on.isoformat()
        }
    return {
        "urgent": bool(active or reports or episode.urgent_since),
        "flags": [
            {
                "sign": labels.sign(f.sign),
                "category": labels.category(f.category),
                "ago": labels.ago(f.raised_at, now),
                "raised_on": f.raised_on.isoformat(),
            }
            for f in active
        ],
        "reports": [
            {
                "sign": labels.sign(r.sign),
                "category": labels.category(r.category),
                "ago": labels.ago(r.reported_at, now),
            }
            for r in reports
        ],
        "referral": referral,
    }


def _reminder_reason(text: str) -> str:
    """A reminder's status reason with the states it names in words."""
    for state in State:
        text = text.replace(state.value, labels.state(state.value).lower())
    return text


def _patient_form(patient: Any, bound: dict[str, Any]) -> list[Field]:  # noqa: ANN401
    values, errors = bound.get("patient", (None, {}))
    if values is None:
        values = {
            name: getattr(patient, name)
            for name in PatientUpdateInputSerializer().fields
            if name != "reason"
        }
        values["birth_date"] = patient.birth_date.isoformat()
    fields = build_fields(
        PatientUpdateInputSerializer,
        prefix="patient",
        values=values,
        errors=errors,
        choice_labels={"preferred_channel": {"email": _("Email"), "sms": _("SMS")}},
    )
    for field in fields:
        if field.name == "reason":
            field.hint = _("Needed when the date of birth changes")
    return fields


def _dates_form(episode: Episode, bound: dict[str, Any]) -> list[Field]:
    values, errors = bound.get("dates", (None, {}))
    if values is None:
        values = {
            "symptom_onset": episode.symptom_onset.isoformat(),
            "conservative_care_start": episode.conservative_care_start.isoformat(),
        }
    fields = build_fields(
        EpisodeUpdateInputSerializer,
        prefix="dates",
        values=values,
        errors=errors,
        exclude=("version", "assigned_to"),
    )
    for field in fields:
        field.hint = _("Needed when a date changes") if field.name == "reason" else ""
    return fields


def _episode_context(
    request: HttpRequest, episode_id: int, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    bound = bound or {}
    episode = episode_get_for(request.user, episode_id)
    patient = episode.patient
    clock = Clock(patient.timezone)
    now = timezone.now()
    today = patient_today(patient)
    facts = episode_facts(episode)
    view = episode_pathway_view(episode, today)
    people = People(episode, request.user)
    flags = sorted(episode.red_flags.all(), key=lambda f: (f.status != "active", f.raised_at))
    reports = red_flag_reports_to_review(episode)
    people.load(
        ids=[episode.assigned_to_id]
        + [f.raised_by_id for f in flags]
        + [f.ruled_out_by_id for f in flags],
        usernames=(),
    )
    timeline, timeline_counts = _timeline(episode, people, clock, request.GET.get("timeline", ""))
    reach = patient_reach(patient)
    signs = [
        (s.value, f"{labels.sign(s.value)} ({labels.category(CATEGORY_OF_SIGN[s])})")
        for s in Sign
        if s not in DERIVED_SIGNS
    ]

    def form(serializer: Any, prefix: str, **kwargs: Any) -> list[Field]:  # noqa: ANN401
        values, errors = bound.get(prefix, ({}, {}))
        return build_fields(serializer, prefix=prefix, values=values, errors=errors, **kwargs)

    facts_values = bound.get("assess", ({**view["facts"]}, {}))[0]
    studies = [
        {
            "study": s,
            "modality": labels.modality(s.modality),
            "warnings": [r.as_dict() for r in imaging_warnings_for(episode, s.performed_on)],
        }
        for s in sorted(episode.imaging.all(), key=lambda s: (s.recorded_at, s.pk))
    ]
    assigned = episode.assigned_to_id
    transitions = _transition_forms(episode, view, facts, people, bound)
    return {
        "episode": episode,
        "patient": patient,
        "age": labels.age(patient.birth_date, today),
        "zone": patient.timezone,
        "local_time": now.astimezone(clock.zone).strftime("%H:%M"),
        "local_date": today,
        "today": today.isoformat(),
        "state_label": labels.state(episode.state),
        "terminal": State(episode.state) in {State.RESOLVED, State.CLOSED},
        "view": view,
        "urgency": _urgency(episode, facts, flags, reports, now),
        # Who has it: take / assign, here.
        "assignee": people.name(user_id=assigned) if assigned else "",
        "assigned_to_me": assigned == request.user.pk,
        "members": [(str(u.pk), labels.person(u)) for u, _role in people.members],
        "assigned_value": str(assigned or ""),
        "pathway": pathway_svg(episode.state, element_id="pathway"),
        "deadlines": [
            {
                **d,
                "label": labels.deadline(d["kind"]),
                "relative": labels.due(date.fromisoformat(d["due"]), today),
            }
            for d in view["deadlines"]
        ],
        "next_actions": [
            {
                **labels.next_action(a),
                "overdue": date.fromisoformat(a["due"]) < today,
                "relative": labels.on_day(date.fromisoformat(a["due"]), today),
            }
            for a in view["next_actions"]
        ],
        "facts": [(labels.label_for(k), v) for k, v in view["facts"].items()],
        "transitions": transitions,
        "allowed_transitions": [t for t in transitions if t["allowed"]],
        "blocked_transitions": [t for t in transitions if not t["allowed"]],
        "who_decides": people.who_decides(),
        "viewer_is_clinician": people.viewer_is_clinician,
        "flags": [
            {
                "flag": f,
                "label": labels.sign(f.sign),
                "category_label": labels.category(f.category),
                "ago": labels.ago(f.raised_at, now),
                "by": (
                    people.name(user_id=f.raised_by_id)
                    if f.raised_by_id
                    else labels.source(f.source)
                ),
                "ruled_out_by": people.name(user_id=f.ruled_out_by_id),
                "ruled_out_at": clock.time(f.ruled_out_at),
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
            for r in reports
        ],
        "raise_fields": form(RedFlagInputSerializer, "flag", choice_labels={"sign": dict(signs)}),
        "assess_fields": build_fields(
            AssessmentInputSerializer,
            prefix="assess",
            values=facts_values,
            errors=bound.get("assess", ({}, {}))[1],
        ),
        "imaging": studies,
        # A study just recorded that IM-2 warns about: the page says so at the top.
        "recorded_warnings": next(
            (s["warnings"] for s in studies if str(s["study"].pk) == request.GET.get("study")),
            [],
        ),
        "imaging_fields": form(ImagingInputSerializer, "imaging"),
        "care_plan": [
            {
                "item": i,
                "label": labels.plan_item(i.item),
                "category": labels.plan_category(i.category),
                "evidence": CATALOGUE[i.item].evidence,
                "url": reverse("workspace:care-plan-item", args=[episode.pk, i.pk]),
                "errors": bound.get(f"plan-{i.pk}", ({}, {}))[1].get("ended_on", []),
            }
            for i in care_plan_for(episode)
            if i.item in CATALOGUE
        ],
        "care_plan_fields": form(
            CarePlanItemInputSerializer,
            "plan",
            choice_labels={"item": {k: labels.plan_item(k) for k in CATALOGUE}},
        ),
        "patient_fields": _patient_form(patient, bound),
        "dates_fields": _dates_form(episode, bound),
        "reminders": [
            {
                "reminder": r,
                "milestone": labels.reminder_milestone(r.milestone),
                "audience": labels.audience(r.audience),
                "channel": labels.channel(r.channel),
                "due": clock.time(r.due_at),
                "status": labels.reminder_status(r.status),
                "reason": _reminder_reason(r.status_reason),
                "attempts": r.attempt_rows,
            }
            for r in episode_reminders(episode).annotate(attempt_rows=Count("deliveries"))
        ],
        "reach": reach,
        "preferred_channel_label": labels.channel(patient.preferred_channel),
        "reach_channel_label": labels.channel(reach.channel or ""),
        "unread_replies": [
            {
                "reply": r,
                "received": clock.time(r.received_at),
                "url": reverse("workspace:reply-read", args=[episode.pk, r.pk]),
            }
            for r in unread_replies(episode.pk)
        ],
        "timeline": timeline,
        "timeline_counts": timeline_counts,
        "timeline_shown": request.GET.get("timeline", "")
        if request.GET.get("timeline", "") in TIMELINE_FILTERS
        else "",
        "timeline_filters": [
            ("", _("Clinical and messages")),
            ("clinical", _("Clinical")),
            ("messages", _("Messages and outreach")),
            ("reminders", _("Reminders")),
            ("all", _("Everything")),
        ],
        "outreach_kinds": OutreachNote._meta.get_field("kind").choices,  # noqa: SLF001
        "outreach_values": bound.get("outreach", ({}, {}))[0],
        "outreach_errors": bound.get("outreach", ({}, {}))[1],
        "seen_at": now.isoformat(),
    }


def episode_page(
    request: HttpRequest,
    episode_id: int,
    *,
    status: int = 200,
    problem: dict[str, Any] | None = None,
    bound: dict[str, Any] | None = None,
    confirm: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page; after a write, with what it says about it.

    ``problem`` is a refusal; ``bound`` holds each sent form's values and errors by its
    prefix, so the form is drawn again as it was filled in; ``confirm`` is a question to
    answer before a write goes ahead (check-and-confirm: what it will do, the fields to
    send again, where to send them).
    """
    context = _episode_context(request, episode_id, bound)
    context["problem"] = problem
    context["confirm"] = confirm
    return render(request, "workspace/episode.html", context, status=status)


@require_GET
@signed_in
def episode(request: HttpRequest, episode_id: int) -> HttpResponse:
    return episode_page(request, episode_id)
