"""The adherence report page and the list of episodes behind each figure."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from api.audit import record_shown
from episodes.models import Episode
from episodes.selectors import care_teams_for
from reports.figures import (
    ReportRequest,
    ReportRequestError,
    adherence_report,
    figure_episode_ids,
    parse_request,
)
from workspace import labels
from workspace.report_svg import Stack, bars, stacked
from workspace.views.common import signed_in

DRILL_LIMIT: Final = 500
RULE_LABELS: Final = {"REF-1": "REF-1 persistent symptoms", "REF-2": "REF-2 disabling pain",
                      "REF-3": "REF-3 neurological deficit", "RF": "RF red flag"}  # fmt: skip
NO_DATA: Final = "-"
OVERALL: Final = ("better", "same", "worse", "resolved")


def _fmt(value: Any, unit: str = "") -> str:  # noqa: ANN401 - a number or None
    if value is None:
        return NO_DATA
    if unit == "%":
        return f"{value * 100:.1f}%"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _query(report: ReportRequest) -> dict[str, str]:
    out = {"from": report.start.isoformat(), "to": report.end.isoformat()}
    if report.care_team is not None:
        out["care_team"] = str(report.care_team)
    return out


def _link(report: ReportRequest, figure: str) -> str:
    query = {"figure": figure, **_query(report)}
    return f"{reverse('workspace:report-episodes')}?{urlencode(query)}"


def _row(label: str, value: str, link: str = "") -> dict[str, str]:
    return {"label": label, "value": value, "link": link}


def _referral_section(report: ReportRequest, figures: dict[str, Any]) -> dict[str, Any]:
    by_rule = figures["referral_timeliness"]["by_rule"]
    rows = []
    for rule, f in by_rule.items():
        rows.append(
            {
                "rule": RULE_LABELS[rule],
                "cells": [
                    str(f["referrals"]),
                    _fmt(f["share_on_time"], "%"),
                    _fmt(f["median_days"]),
                    _fmt(f["p90_days"]),
                ],
                "late": _link(report, f"referral_late:{rule}"),
                "overdue": f["open_overdue"],
                "overdue_link": _link(report, f"referral_overdue:{rule}"),
            }
        )
    chart = bars(
        _("Share of referrals made on time, by rule (table below)"),
        [(RULE_LABELS[r], f["share_on_time"]) for r, f in by_rule.items()],
    )
    by_month = figures["referral_timeliness"]["by_month"]
    trend = bars(
        _("Share of referrals made on time, by month made (table below)"),
        [(m["month"], m["share_on_time"]) for m in by_month],
    )
    months = [{**m, "share": _fmt(m["share_on_time"], "%")} for m in by_month]
    return {"rows": rows, "chart": chart, "trend": trend, "months": months}


def _simple_sections(report: ReportRequest, f: dict[str, Any]) -> list[dict[str, Any]]:
    img, rf = f["low_value_imaging"], f["red_flag_to_referral"]
    cc, esi, sx = f["conservative_care"], f["esi"], f["surgery"]
    ruled_out_by = ", ".join(f"{who}: {n}" for who, n in rf["ruled_out_by"].items())
    return [
        {
            "id": "imaging",
            "title": _("Low-value imaging"),
            "rules": "IM-2, CC-1",
            "rows": [
                _row(_("Imaging studies"), str(img["studies"])),
                _row(
                    _("Before day 42 with no red flag active"),
                    f"{img['low_value']} ({_fmt(img['rate'], '%')})",
                    _link(report, "low_value_imaging"),
                ),
            ],
        },
        {
            "id": "red-flags",
            "title": _("Red flag to referral"),
            "rules": "RF",
            "rows": [
                _row(_("Red flags raised"), str(rf["flags"])),
                _row(_("Followed by a referral"), str(rf["referred"])),
                _row(_("Median hours to referral"), _fmt(rf["median_hours"])),
                _row(_("90th percentile hours"), _fmt(rf["p90_hours"])),
                _row(
                    _("Active, no referral yet"),
                    str(rf["active_without_referral"]),
                    _link(report, "red_flag_waiting"),
                ),
                _row(
                    _("Ruled out (by whom)"),
                    f"{rf['ruled_out']} ({ruled_out_by})" if ruled_out_by else "0",
                    _link(report, "red_flag_ruled_out"),
                ),
            ],
        },
        {
            "id": "conservative-care",
            "title": _("Conservative care"),
            "rules": "CC-2, CC-3, CC-4, RFA-1",
            "rows": [
                _row(
                    _("Education within 2 weeks of enrolment (CC-2)"),
                    f"{cc['education_within_2_weeks']} of {cc['episodes']}"
                    f" ({_fmt(cc['education_share'], '%')})",
                    _link(report, "education_missing"),
                ),
                _row(
                    _("Level B physical therapy started (CC-4)"),
                    f"{cc['level_b_physical_therapy']} of {cc['episodes']}"
                    f" ({_fmt(cc['physical_therapy_share'], '%')})",
                    _link(report, "physical_therapy_missing"),
                ),
                _row(
                    _("Plan items flagged CC-3"),
                    str(cc["items_flagged_cc3"]),
                    _link(report, "flagged_cc3"),
                ),
                _row(
                    _("Plan items flagged RFA-1"),
                    str(cc["items_flagged_rfa1"]),
                    _link(report, "flagged_rfa1"),
                ),
            ],
        },
        {
            "id": "procedures",
            "title": _("Injections and surgery"),
            "rules": "ESI-1..3, SX-4, SX-5",
            "rows": [
                _row(_("Injections (ESI-1..3)"), str(esi["injections"]), _link(report, "esi")),
                _row(_("Injections per episode"), _fmt(esi["per_episode"])),
                _row(
                    _("Episodes with 0 / 1 / 2 / 3+ injections"),
                    " / ".join(str(v) for v in esi["episodes_with"].values()),
                ),
                _row(_("Surgical plans (SX-4)"), str(sx["plans"])),
                _row(
                    _("Fusions (SX-5)"),
                    f"{sx['fusions']} ({_fmt(sx['fusion_share'], '%')})",
                    _link(report, "fusion"),
                ),
                _row(
                    _("Fusion indications"),
                    ", ".join(f"{k}: {v}" for k, v in sx["fusion_indications"].items()) or NO_DATA,
                ),
            ],
        },
    ]


def _reached(report: ReportRequest, f: dict[str, Any]) -> dict[str, Any]:
    reached = f["patients_reached"]
    checkins = reached["checkins"]
    milestones = [labels.milestone(c["milestone"]) for c in checkins]
    return {
        "reminders": [
            {**r, "milestone": labels.milestone(r["milestone"])} for r in reached["reminders"]
        ],
        "problems_link": _link(report, "reminder_problems"),
        "checkins": [
            {
                **c,
                "label": label,
                "rate": _fmt(c["response_rate"], "%"),
                "better": _fmt(c["better_or_resolved_share"], "%"),
            }
            for c, label in zip(checkins, milestones, strict=True)
        ],
        "overall": OVERALL,
        "chart": stacked(
            _("How patients say they are at each milestone (table below)"),
            [labels.overall(o) for o in OVERALL],
            [
                Stack(label, [c["overall"][o] for o in OVERALL])
                for c, label in zip(checkins, milestones, strict=True)
            ],
        ),
        "natural_history": reached["natural_history"],
    }


def _flow(report: ReportRequest, f: dict[str, Any]) -> dict[str, Any]:
    flow = f["flow"]
    points = list(flow["states_over_time"])
    while points and not points[0]["states"]:
        points.pop(0)  # months before the first enrolment: nothing to draw
    states = sorted({s for point in points for s in point["states"]})
    return {
        **flow,
        "states": [(s, labels.state(s)) for s in states],
        "points": [
            {"on": p["on"], "counts": [p["states"].get(s, 0) for s in states]} for p in points
        ],
        "chart": stacked(
            _("Episodes in each state at each month's end (table below)"),
            [labels.state(s) for s in states],
            [Stack(p["on"], [p["states"].get(s, 0) for s in states]) for p in points],
        ),
        "stays": [
            {
                "state": labels.state(s),
                "stays": v["stays"],
                "median": _fmt(v["median_days"]),
                "p90": _fmt(v["p90_days"]),
            }
            for s, v in flow["days_in_state"].items()
        ],
        "resolved": f"{flow['resolved_by_3_months']} of {flow['episodes']}"
        f" ({_fmt(flow['resolved_share'], '%')})",
        "resolved_link": _link(report, "resolved_by_3_months"),
        "cohort_link": _link(report, "cohort"),
    }


def _form(request: HttpRequest) -> dict[str, Any]:
    return {
        "teams": list(care_teams_for(request.user).values_list("pk", "name")),
        "chosen_team": request.GET.get("care_team", ""),
    }


@require_GET
@signed_in
def report(request: HttpRequest) -> HttpResponse:
    """The adherence report for a care team (or all the user's) and a date range."""
    try:
        report_request = parse_request(request.user, request.GET)
    except ReportRequestError as exc:
        context = {**_form(request), "error": exc.message, "params": request.GET}
        return render(request, "workspace/report.html", context, status=400)
    data = adherence_report(report_request)
    figures = data["figures"]
    context = {
        **_form(request),
        "report": data,
        "params": _query(report_request),
        "referrals": _referral_section(report_request, figures),
        "sections": _simple_sections(report_request, figures),
        "reached": _reached(report_request, figures),
        "flow": _flow(report_request, figures),
        "csv_link": reverse("report-adherence")
        + "?"
        + urlencode({**_query(report_request), "format": "csv"}),
    }
    return render(request, "workspace/report.html", context)


@require_GET
@signed_in
def report_episodes(request: HttpRequest) -> HttpResponse:
    """The episodes behind one figure of the report (404 for a figure it does not have)."""
    try:
        report_request = parse_request(request.user, request.GET)
    except ReportRequestError as exc:
        return render(request, "workspace/report_episodes.html", {"error": exc.message}, status=400)
    figure = request.GET.get("figure", "")
    ids = sorted(figure_episode_ids(report_request, figure))
    episodes = (
        Episode.objects.filter(pk__in=ids[:DRILL_LIMIT]).select_related("patient").order_by("pk")
    )
    record_shown(request, (e.patient_id for e in episodes))
    context = {
        "figure": figure,
        "count": len(ids),
        "limit": DRILL_LIMIT,
        "rows": [
            {"episode": e, "state": labels.state(e.state), "patient": e.patient} for e in episodes
        ],
        "back": f"{reverse('workspace:report')}?{urlencode(_query(report_request))}",
    }
    return render(request, "workspace/report_episodes.html", context)
