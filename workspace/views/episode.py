"""An episode's page: the patient banner, the pathway, the forms and the timeline.

The forms post to ``episode_writes``; a refused write draws this page again
(``episode_page``) with the status and the refusal in sentences.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from api.serializers.inputs import (
    TRANSITION_INPUT,
    AssessmentInputSerializer,
    CarePlanItemInputSerializer,
    ImagingInputSerializer,
    RedFlagInputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
)
from careflow.careplan import CATALOGUE
from careflow.redflags import CATEGORY_LABEL, CATEGORY_OF_SIGN, DERIVED_SIGNS, Sign
from careflow.states import TransitionName
from episodes.models import Episode
from episodes.selectors import (
    care_plan_for,
    episode_get_for,
    episode_pathway_view,
    episode_timeline,
    patient_today,
    red_flag_reports_to_review,
)
from notifications.channels import patient_reach
from notifications.selectors import episode_reminders, unread_replies
from workspace import labels
from workspace.forms import build_fields
from workspace.models import OutreachNote
from workspace.pathway_svg import pathway_svg
from workspace.views.common import signed_in

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
    events = [
        {
            "at": e.at,
            "kind_label": labels.event_kind(e.kind),
            "by": e.by,
            "source": e.source,
            "text": labels.event(e),
            # An unread reply can be marked read where it shows.
            "read_url": (
                reverse("workspace:reply-read", args=[episode.pk, e.data["reply"]])
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
        "local_time": timezone.now().astimezone(ZoneInfo(patient.timezone)),
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


def episode_page(
    request: HttpRequest,
    episode_id: int,
    *,
    status: int = 200,
    problem: dict[str, Any] | None = None,
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page; after a refused write, with the refusal and the form that was sent.

    ``problem`` is what the page says about the refusal; ``bound`` holds each sent form's
    values and errors by its prefix, so the form is drawn again as it was filled in.
    """
    context = _episode_context(request, episode_id, bound)
    context["problem"] = problem
    return render(request, "workspace/episode.html", context, status=status)


@require_GET
@signed_in
def episode(request: HttpRequest, episode_id: int) -> HttpResponse:
    return episode_page(request, episode_id)
