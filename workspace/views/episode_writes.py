"""The forms of an episode's page, each a write.

Transitions, red flags raised and ruled out, a patient's red-flag report reviewed,
assessments, imaging, the care plan and outreach notes. Each validates its form with the
API's serializer, calls the service and redirects back to the page (``?done=``); a refusal
draws the page again saying why, with the status the API answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
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
    CarePlanItemUpdateInputSerializer,
    EpisodeUpdateInputSerializer,
    ImagingInputSerializer,
    PatientUpdateInputSerializer,
    RedFlagInputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
)
from careflow.states import TransitionName
from episodes import services
from episodes.models import Episode
from episodes.selectors import (
    MAX_ID,
    care_plan_item_get_for,
    episode_get_for,
    episode_timeline,
    red_flag_get_for,
    red_flag_report_get_for,
)
from workspace import labels
from workspace.forms import service_errors, submitted, validate
from workspace.services import outreach_note_add
from workspace.views.common import signed_in
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
    query: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """Run a service call; on refusal re-render the episode page saying why, as the API.

    ``query``: more of the redirect's query string, from what the call returned.
    """
    episode = episode_get_for(request.user, episode_id)
    try:
        result = call()
    except services.TransitionError as exc:
        status, problem = _refusal(exc, episode, request.POST.get("seen_at", "")) or (409, {})
        return episode_page(request, episode_id, status=status, problem=problem)
    except ValidationError as exc:
        return _invalid(request, episode_id, prefix, values, service_errors(exc))
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    url = reverse("workspace:episode", args=[episode_id])
    more = f"&{query(result)}" if query is not None else ""
    return redirect(f"{url}?done={done}{more}#top")


FORM_WIDE = frozenset({"__all__", "non_field_errors"})


def _invalid(
    request: HttpRequest,
    episode_id: int,
    prefix: str,
    values: dict[str, Any],
    errors: dict,
) -> HttpResponse:
    """The page again with the form as sent, each error linked to its field.

    The messages are whole sentences: the forms' words (``validate``, ``service_errors``)
    or the view's own ("Enter why ...").
    """
    problem = {
        "summary": _("There is a problem"),
        # Each message links to its field (NHS.UK error summary); a form-wide one to the form.
        "links": [
            (f"#form-{prefix}" if k in FORM_WIDE else f"#{prefix}-{k}", " ".join(v))
            for k, v in errors.items()
        ],
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
    if name == TransitionName.CLOSE and request.POST.get("confirmed") != "yes":
        return _confirm_close(request, episode_id, raw, version)
    return _write(
        request,
        episode_id,
        prefix=prefix,
        values=raw,
        call=lambda: services.episode_transition(
            episode_id=episode_id,
            name=name,
            by=request.user,
            version=int(version) if version.isascii() and version.isdigit() else None,
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
    query: Callable[[Any], str] | None = None,
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
        query=query,
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
        query=lambda study: f"study={study.pk}",
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


def _confirm_close(
    request: HttpRequest, episode_id: int, raw: dict[str, Any], version: str
) -> HttpResponse:
    """Closing ends the episode: check and confirm first; nothing changes until then."""
    lines = [(_("Reason"), labels.closure_reason(raw["reason"]))]
    if raw.get("note"):
        lines.append((_("Note"), raw["note"]))
    confirm = {
        "title": _("Close this episode?"),
        "lines": lines,
        "consequence": _(
            "Closing ends the episode: its reminders are cancelled and it takes no more"
            " changes. A patient who needs care again is enrolled in a new episode."
        ),
        "url": reverse("workspace:transition", args=[episode_id, TransitionName.CLOSE.value]),
        "fields": [*raw.items(), ("version", version), ("confirmed", "yes")],
        "button": _("Yes, close the episode"),
        "cancel": _("No, keep it open"),
    }
    return episode_page(request, episode_id, confirm=confirm)


@require_POST
@signed_in
def assign(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Take the episode or assign it to a member of its care team, from its page.

    Taking it from a colleague (or giving a colleague's episode to someone else) asks
    first: nothing changes until the user confirms.
    """
    episode = episode_get_for(request.user, episode_id)
    raw = str(request.user.pk) if "take" in request.POST else request.POST.get("assigned_to", "")
    if raw and not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
        return episode_page(
            request,
            episode_id,
            status=400,
            problem={"summary": _("Choose a member of the episode's care team.")},
        )
    new = int(raw) if raw else None
    held_by_colleague = episode.assigned_to_id not in {None, request.user.pk, new}
    if held_by_colleague and request.POST.get("confirmed") != "yes":
        return episode_page(request, episode_id, confirm=_reassign_question(episode, new, request))
    assignee = get_user_model().objects.filter(pk=new).first() if new else None
    if new and assignee is None:
        return episode_page(
            request,
            episode_id,
            status=400,
            problem={"summary": _("Not a member of the episode's care team.")},
        )
    return _write(
        request,
        episode_id,
        prefix="assign",
        values={},
        call=lambda: services.episode_update(
            episode_id=episode.pk, by=request.user, fields={"assigned_to": assignee}
        ),
        done="assigned",
    )


def _reassign_question(episode: Episode, new: int | None, request: HttpRequest) -> dict[str, Any]:
    users = get_user_model().objects.in_bulk([i for i in (episode.assigned_to_id, new) if i])
    holder = labels.person(users[episode.assigned_to_id])
    if new == request.user.pk:
        title = _("Take this patient from %(name)s?") % {"name": holder}
        button = _("Yes, take the patient")
    elif new in users:
        title = _("Give %(holder)s's patient to %(name)s?") % {
            "holder": holder,
            "name": labels.person(users[new]),
        }
        button = _("Yes, reassign the patient")
    else:
        title = _("Take this patient away from %(name)s, leaving it with nobody?") % {
            "name": holder
        }
        button = _("Yes, unassign the patient")
    return {
        "title": title,
        "lines": [],
        "consequence": _("%(name)s has this patient now: tell them, so the work is not done twice.")
        % {"name": holder},
        "url": reverse("workspace:episode-assign", args=[episode.pk]),
        "fields": [("assigned_to", str(new or "")), ("confirmed", "yes")],
        "button": button,
        "cancel": _("No, leave it with %(name)s") % {"name": holder},
    }


def _reason_needed(changed: bool, raw: dict[str, Any], message: str) -> dict[str, list[str]]:  # noqa: FBT001
    return {"reason": [message]} if changed and not str(raw.get("reason", "")).strip() else {}


@require_POST
@signed_in
def patient_update(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Correct the patient's details; a new date of birth names its reason (PATHWAY.md)."""
    episode = episode_get_for(request.user, episode_id)
    patient = episode.patient
    raw = submitted(PatientUpdateInputSerializer, request.POST)
    data, errors = validate(PatientUpdateInputSerializer, raw)
    if data is not None:
        errors = _reason_needed(
            data.get("birth_date", patient.birth_date) != patient.birth_date,
            raw,
            _("Enter why the date of birth is being corrected"),
        )
    if data is None or errors:
        return _invalid(request, episode_id, "patient", raw, errors)
    reason = data.pop("reason", "")
    changed = {k: v for k, v in data.items() if getattr(patient, k) != v}
    return _write(
        request,
        episode_id,
        prefix="patient",
        values=raw,
        call=lambda: services.patient_update(
            patient_id=patient.pk, by=request.user, fields=changed, reason=reason
        ),
        done="patient",
    )


@require_POST
@signed_in
def dates_update(request: HttpRequest, episode_id: int) -> HttpResponse:
    """Correct the onset or care-start date, with the reason (PATHWAY.md)."""
    episode = episode_get_for(request.user, episode_id)
    raw = submitted(EpisodeUpdateInputSerializer, request.POST, exclude=("version", "assigned_to"))
    data, errors = validate(EpisodeUpdateInputSerializer, raw)
    if data is not None:
        errors = _reason_needed(
            any(data.get(f, getattr(episode, f)) != getattr(episode, f) for f in DATES),
            raw,
            _("Enter why the date is being corrected"),
        )
    if data is None or errors:
        return _invalid(request, episode_id, "dates", raw, errors)
    reason = data.pop("reason", "")
    version = request.POST.get("version", "")
    return _write(
        request,
        episode_id,
        prefix="dates",
        values=raw,
        call=lambda: services.episode_update(
            episode_id=episode.pk,
            by=request.user,
            fields=data,
            reason=reason,
            version=int(version) if version.isascii() and version.isdigit() else None,
        ),
        done="dates",
    )


DATES = ("symptom_onset", "conservative_care_start")


@require_POST
@signed_in
def care_plan_item_end(request: HttpRequest, episode_id: int, item_id: int) -> HttpResponse:
    """Mark a care-plan item ended on a date (its CC-3 flags are worked out again)."""
    item = care_plan_item_get_for(episode_get_for(request.user, episode_id), item_id)
    prefix = f"plan-{item.pk}"
    raw = {"ended_on": request.POST.get("ended_on", "").strip()}
    if not raw["ended_on"]:
        errors = {"ended_on": [_("Enter the date it ended")]}
        return _invalid(request, episode_id, prefix, raw, errors)
    data, errors = validate(CarePlanItemUpdateInputSerializer, raw)
    if data is None:
        return _invalid(request, episode_id, prefix, raw, errors)
    return _write(
        request,
        episode_id,
        prefix=prefix,
        values=raw,
        call=lambda: services.care_plan_item_update(
            item_id=item.pk, episode_id=episode_id, by=request.user, fields=data
        ),
        done="care_plan",
    )
