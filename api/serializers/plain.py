"""The episode and the queue rows as plain dicts, in one pass: the serializers' JSON.

``episode_output`` writes what ``EpisodeOutputSerializer`` would, ``episode_summaries``
what ``EpisodeSummarySerializer`` would (``api.serializers.outputs``; the OpenAPI schema
names those); tests compare the two, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Final

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from careflow.careplan import CATALOGUE
from episodes.models import CarePlanItem, RedFlagReport, RedFlagStatus
from episodes.selectors import row_facts, row_flags, row_next_action, row_today

_DATETIME: Final = serializers.DateTimeField()


def _iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def episode_summaries(rows: Iterable[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """``EpisodeSummarySerializer``'s output for queue rows (``queue_rows``), in one pass.

    The same keys, values and formats (the OpenAPI schema still names the serializer); a
    test compares the two on every queue.
    """
    out = []
    for row in rows:
        flags = row_flags(row)
        next_action = row_next_action(row["state"], row_facts(row, flags), row_today(row, now))
        urgent_since = row["urgent_since"]
        out.append(
            {
                "id": row["id"],
                "patient": row["patient_id"],
                "patient_name": f"{row['given_name']} {row['family_name']}",
                "care_team": row["care_team_id"],
                "state": row["state"],
                "version": row["version"],
                "red_flags": [
                    {
                        "id": f["id"],
                        "sign": f["sign"],
                        "category": f["category"],
                        "status": RedFlagStatus.ACTIVE.value,
                        "raised_at": _DATETIME.to_representation(_moment(f["raised_at"])),
                    }
                    for f in flags
                ],
                "next_deadline": _iso_date(row["next_deadline"]),
                "next_deadline_rule": row["next_deadline_rule"],
                "next_action": next_action,
                "assigned_to": row["assigned_to_id"],
                "urgent_since": (
                    None if urgent_since is None else _DATETIME.to_representation(urgent_since)
                ),
            }
        )
        if "reply" in row:
            out[-1]["reply"] = _reply(row["reply"])
    return out


def _reply(reply: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A row's ``reply`` (JSON from the page's query) as ``ReplyBriefSerializer`` writes it."""
    if reply is None:
        return None
    received_at = reply["received_at"]
    if isinstance(received_at, str):
        received_at = parse_datetime(received_at)
    return {
        "id": reply["id"],
        "text": reply["text"],
        "received_at": _DATETIME.to_representation(received_at),
    }


def _iso_datetime(value: datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _moment(value: datetime | str) -> datetime:
    """A queue row's JSON instant (ISO text) as an aware datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def red_flag_report_output(report: RedFlagReport) -> dict[str, Any]:
    """``RedFlagReportOutputSerializer(report).data`` as a plain dict."""
    return {
        "id": report.pk,
        "sign": report.sign,
        "category": report.category,
        "red_flag": report.red_flag_id,
        "reported_at": _iso_datetime(report.reported_at),
        "reviewed_at": _iso_datetime(report.reviewed_at),
        "reviewed_by": report.reviewed_by_id,
        "review_note": report.review_note,
    }


def _reasons(reasons: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``ReasonSerializer(many=True)``: rule and message, ``opens_on`` only where given."""
    out = []
    for reason in reasons:
        item: dict[str, Any] = {"rule": str(reason["rule"]), "message": str(reason["message"])}
        if "opens_on" in reason:
            opens_on = reason["opens_on"]
            item["opens_on"] = opens_on.isoformat() if isinstance(opens_on, date) else opens_on
        out.append(item)
    return out


def _care_plan_item(item: CarePlanItem) -> dict[str, Any]:
    entry = CATALOGUE[item.item]
    return {
        "id": item.pk,
        "item": item.item,
        "category": item.category,
        "rule": entry.rule,
        "evidence": entry.evidence,
        "started_on": _iso_date(item.started_on),
        "ended_on": _iso_date(item.ended_on),
        "note": item.note,
        "positive_medial_branch_block": item.positive_medial_branch_block,
        "flags": _reasons(item.flags),
        "recorded_by": item.recorded_by_id,
        "recorded_at": _iso_datetime(item.recorded_at),
    }


def episode_output(body: Mapping[str, Any]) -> dict[str, Any]:
    """``EpisodeOutputSerializer(body).data`` as plain dicts, in one pass.

    The same keys in the same order, the same values and formats (the OpenAPI schema still
    names the serializer); a test compares the two, byte for byte, on every transition.
    """
    return {
        "id": body["id"],
        "patient": body["patient_id"],
        "care_team": body["care_team_id"],
        "assigned_to": body["assigned_to_id"],
        "state": str(body["state"]),
        "version": body["version"],
        "symptom_onset": _iso_date(body["symptom_onset"]),
        "conservative_care_start": _iso_date(body["conservative_care_start"]),
        "enrolled_on": _iso_date(body["enrolled_on"]),
        "days_since_onset": body["days_since_onset"],
        "days_of_conservative_care": body["days_of_conservative_care"],
        "facts": {
            str(name): None if value is None else bool(value)
            for name, value in body["facts"].items()
        },
        "red_flags": [
            {
                "id": f.pk,
                "sign": f.sign,
                "category": f.category,
                "status": f.status,
                "raised_at": _iso_datetime(f.raised_at),
            }
            for f in body["red_flags"]
        ],
        "red_flag_reports": [red_flag_report_output(r) for r in body["red_flag_reports"]],
        "deadlines": [
            {"kind": d["kind"], "due": d["due"], "rule": d["rule"], "overdue": d["overdue"]}
            for d in body["deadlines"]
        ],
        "next_deadline": _iso_date(body["next_deadline"]),
        "next_deadline_rule": body["next_deadline_rule"],
        "next_actions": [
            {"action": a["action"], "due": a["due"], "rule": a["rule"]}
            for a in body["next_actions"]
        ],
        "available_transitions": [
            {
                "name": t["name"],
                "target": t["target"],
                "clinician_only": t["clinician_only"],
                "allowed": t["allowed"],
                "reasons": _reasons(t["reasons"]),
            }
            for t in body["available_transitions"]
        ],
        "care_plan": [_care_plan_item(item) for item in body["care_plan"]],
        "urgent_since": _iso_datetime(body["urgent_since"]),
        "created_at": _iso_datetime(body["created_at"]),
        "updated_at": _iso_datetime(body["updated_at"]),
    }
