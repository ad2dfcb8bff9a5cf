"""The patient check-in page: `/check-in/<signed token>/`, no login, works on a phone.

Server-rendered, no JavaScript needed, CSRF-protected, rate-limited. A bad, expired or
unknown token gets a clear page that tells the patient how to reach the care team;
nothing a patient can send produces a 500.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from careflow.checkin import Overall, Symptom, signs_for
from careflow.states import TERMINAL_STATES, State
from infra.client import client_ip
from notifications import services as notifications_services
from notifications.checkins.text import text_for
from notifications.checkins.tokens import default_max_age, reminder_id_from_token
from notifications.models import Audience, Reminder

logger = logging.getLogger(__name__)

# Generous for a person correcting answers, tight for a script hammering the form.
RATE = "10/h"


def _invalid(
    request: HttpRequest, *, why: str, status: int, reminder: Reminder | None = None
) -> HttpResponse:
    language = reminder.episode.patient.language if reminder else "en"
    text = text_for(language)
    team = reminder.episode.care_team if reminder else None
    contact = text["contact"].format(team=f" ({team.name}: {team.email})" if team else "")
    return render(
        request,
        "checkin/invalid.html",
        {"text": text, "message": text[why], "contact": contact, "language": language},
        status=status,
    )


def _load(token: str) -> tuple[Reminder | None, str]:
    try:
        reminder_id = reminder_id_from_token(token)
    except signing.SignatureExpired:
        return None, "expired"
    except signing.BadSignature:
        return None, "bad"
    reminder = (
        Reminder.objects.select_related("episode__patient", "episode__care_team")
        .filter(pk=reminder_id, audience=Audience.PATIENT)
        .first()
    )
    if reminder is None:
        return None, "bad"
    return reminder, ""


def _expires_on(token: str) -> str:
    """The date the (already verified) token stops working: ``payload:timestamp:signature``."""
    timestamp = token.rsplit(":", 2)[1]
    signed_at = datetime.fromtimestamp(signing.b62_decode(timestamp), tz=UTC)
    return (signed_at + default_max_age()).date().isoformat()


@require_http_methods(["GET", "POST"])
def checkin_page(request: HttpRequest, token: str) -> HttpResponse:
    reminder, why = _load(token)
    if reminder is None:
        return _invalid(request, why=why, status=410 if why == "expired" else 404)
    episode = reminder.episode
    # An ended episode still takes the form: a red-flag symptom reported on it reaches the
    # care team at once (PATHWAY.md "A red-flag report is never absorbed").
    patient = episode.patient
    text = text_for(patient.language)
    existing = getattr(reminder, "checkin", None)
    context = {
        "text": text,
        "language": patient.language,
        "intro": text["intro"].format(name=patient.given_name),
        "correct": text["correct"].format(expires=_expires_on(token)),
        "overall_choices": [(o.value, text[o.value]) for o in Overall],
        "symptom_choices": [(s.value, text[s.value]) for s in Symptom],
        "errors": [],
        "ended": State(episode.state) in TERMINAL_STATES,
        "chosen": {
            "overall": existing.overall if existing else "",
            "disabling": ("yes" if existing.disabling_pain else "no") if existing else "",
            "symptoms": existing.symptoms if existing else [],
        },
    }
    if request.method == "GET":
        return render(request, "checkin/form.html", context)
    return _submit(request, token, reminder, context)


def _rate_limited(request: HttpRequest, reminder: Reminder) -> bool:
    """Per link, and per client address for one patient's links: never across patients.

    Patients behind one proxy (or one clinic's Wi-Fi) share an address; a limit keyed on
    the address alone would let one patient's submissions refuse another's. The address is
    the real client's, read behind trusted proxies (``infra.client.client_ip``).
    """
    by_link = is_ratelimited(
        request,
        group="checkin-link",
        key=lambda _group, _request: str(reminder.pk),
        rate=RATE,
        method="POST",
        increment=True,
    )
    by_address = is_ratelimited(
        request,
        group="checkin-address",
        key=lambda _group, req: f"{client_ip(req)}|{reminder.episode.patient_id}",
        rate=RATE,
        method="POST",
        increment=True,
    )
    return by_link or by_address


def _submit(
    request: HttpRequest, token: str, reminder: Reminder, context: dict[str, Any]
) -> HttpResponse:
    text = context["text"]
    symptoms = [s for s in request.POST.getlist("symptoms") if s in Symptom.__members__.values()]
    # A reported red-flag symptom is always taken: no limit refuses it (PATHWAY.md).
    if _rate_limited(request, reminder) and not signs_for(symptoms):
        return _invalid(request, why="slow_down", status=429, reminder=reminder)
    overall = request.POST.get("overall", "")
    disabling = request.POST.get("disabling", "")
    context["chosen"] = {"overall": overall, "disabling": disabling, "symptoms": symptoms}
    if overall not in Overall.__members__.values():
        context["errors"].append(text["choose_overall"])
    if disabling not in ("yes", "no"):
        context["errors"].append(text["choose_disabling"])
    if context["errors"]:
        # The rest of the form is missing, but a red-flag symptom is recorded now (the flag
        # raised, the episode escalated, the care team alerted); the page asks for the rest.
        if signs_for(symptoms):
            notifications_services.checkin_red_flags_report(
                reminder_id=reminder.pk, symptoms=symptoms
            )
            context["urgent"] = True
        return render(request, "checkin/form.html", context, status=400)
    checkin = notifications_services.checkin_submit(
        reminder_id=reminder.pk,
        overall=overall,
        disabling_pain=disabling == "yes",
        symptoms=symptoms,
    )
    logger.info("check-in page submitted checkin=%s", checkin.pk)
    return render(
        request,
        "checkin/done.html",
        {
            **context,
            "urgent": bool(checkin.symptoms),
            "resolved": checkin.overall == Overall.RESOLVED,
            "token": token,
        },
    )
