"""The forms of an episode's page, each a write.

Transitions, red flags raised and ruled out, a patient's red-flag report reviewed,
assessments, imaging, the care plan and outreach notes. Each validates its form with the
API's serializer, calls the service and redirects back to the page (``?done=``); a refusal
draws the page again saying why, with the status the API answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.serializers.inputs import (
    TRANSITION_INPUT,
    AssessmentInputSerializer,
    CarePlanItemInputSerializer,
    ImagingInputSerializer,
    RedFlagInputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
)
from careflow.states import TransitionName
from episodes import services
from episodes.models import Episode
from episodes.selectors import (
    episode_get_for,
    episode_timeline,
    red_flag_get_for,
    red_flag_report_get_for,
)
from workspace import labels
from workspace.forms import submitted, validate
from workspace.services import outreach_note_add
from workspace.views.common import error_sentences, signed_in
from workspace.views.episode import episode_page


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
        return episode_page(request, episode_id, status=status, problem=problem)
    except ValidationError as exc:
        errors = getattr(exc, "message_dict", {"__all__": exc.messages})
        problem = {"summary": _("Please correct the following."), "messages": error_sentences(exc)}
        return episode_page(
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
    return episode_page(
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
