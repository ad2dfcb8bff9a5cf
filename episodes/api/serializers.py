"""Input and output serializers of the HTTP API (API.md).

They sit at module level rather than nested in each view because OpenAPI component names
come from class names: nested ``InputSerializer`` classes would all be called "Input".
Input serializers check shape and types (400); the services check the pathway's rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Final

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from careflow.careplan import CATALOGUE
from careflow.facts import BOOLEAN_FACTS
from careflow.guards import DISCECTOMY_TECHNIQUES, ESI_APPROACHES, FUSION_INDICATIONS
from careflow.redflags import Sign
from careflow.states import State, TransitionName
from episodes.models import (
    Assessment,
    CarePlanItem,
    Channel,
    ClosureReason,
    Episode,
    ImagingStudy,
    Language,
    Patient,
    RedFlag,
    RedFlagReport,
    RedFlagStatus,
    Urgency,
    validate_timezone,
)
from episodes.selectors import (
    MAX_ID,
    active_red_flags,
    episode_next_action,
    row_facts,
    row_flags,
    row_next_action,
    row_today,
)
from notifications.channels import patient_reach

# Dates before this are typing mistakes, and would push reminder times out of range.
EARLIEST_DATE: Final = date(1900, 1, 1)
E164: Final = r"^\+[1-9][0-9]{1,14}$"


def _not_before_1900(value: date) -> None:
    if value < EARLIEST_DATE:
        msg = f"Dates before {EARLIEST_DATE.isoformat()} are not accepted."
        raise serializers.ValidationError(msg)


def _not_in_future(value: date) -> None:
    if value > timezone.localdate():
        msg = "Cannot be in the future."
        raise serializers.ValidationError(msg)


def date_field(**kwargs: Any) -> serializers.DateField:
    validators = [_not_before_1900, *kwargs.pop("validators", [])]
    return serializers.DateField(validators=validators, **kwargs)


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: a clinical fact is never guessed from "yes" or 1."""

    def to_internal_value(self, data: Any) -> bool:  # noqa: ANN401 - any JSON value
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        return False  # unreachable: fail() raises


def _choices(values: Any) -> list[str]:  # noqa: ANN401 - an enum or a sequence of strings
    return [str(v) for v in values]


# -- shared shapes ------------------------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField()
    opens_on = serializers.DateField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="Machine-readable code.")
    detail = serializers.CharField(help_text="What went wrong, for a person.")


class ValidationErrorSerializer(ErrorSerializer):
    """400: besides ``error`` and ``detail``, each invalid field maps to its messages."""


class GuardFailedSerializer(ErrorSerializer):
    reasons = ReasonSerializer(many=True)


# -- patients -------------------------------------------------------------------------------------


# Free text (notes, reasons): a page or two, never megabytes.
TEXT_MAX_LENGTH = 10_000


class StrictInputSerializer(serializers.Serializer):
    """A body naming a field this operation does not take is a 400, not silently ignored."""

    def to_internal_value(self, data: Any) -> Any:  # noqa: ANN401 - whatever the client sent
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class PatientInputSerializer(serializers.Serializer):
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    birth_date = date_field(validators=[_not_in_future])
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.RegexField(
        E164, max_length=16, required=False, allow_blank=True, help_text="E.164"
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        validators=[validate_timezone],
        help_text="IANA time zone name, e.g. Europe/London; default: the server's.",
    )
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    sms_consent = StrictBooleanField(required=False)
    opted_out = StrictBooleanField(required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class PatientCreateInputSerializer(PatientInputSerializer):
    care_team = id_field(
        required=False,
        help_text="Needed only when you belong to more than one care team.",
    )


class PatientUpdateInputSerializer(StrictInputSerializer, PatientInputSerializer):
    """Any subset of the patient's fields (PATCH); a birth-date correction names a reason."""

    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="Why the birth date is corrected (required when it changes).",
    )


class PatientOutputSerializer(serializers.ModelSerializer):
    preferred_channel_reachable = serializers.SerializerMethodField(
        help_text="Whether the preferred channel reaches the patient now (SMS: a phone and"
        " SMS consent, which the patient's STOP withdraws)."
    )
    reminders_by = serializers.SerializerMethodField(
        help_text="The channel the patient's reminders go by now: the preferred one when it"
        " reaches them, else email; null when nothing reaches them (their reminders fail"
        " into the delivery_failures queue, so the care team is told)."
    )

    class Meta:
        model = Patient
        fields = (
            "id",
            "care_team",
            "given_name",
            "family_name",
            "display_name",
            "birth_date",
            "email",
            "phone",
            "timezone",
            "preferred_channel",
            "sms_consent",
            "preferred_channel_reachable",
            "reminders_by",
            "opted_out",
            "language",
            "created_at",
            "updated_at",
        )

    def get_preferred_channel_reachable(self, obj: Patient) -> bool:
        return patient_reach(obj).preferred

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reminders_by(self, obj: Patient) -> str | None:
        return patient_reach(obj).channel


# -- episodes -------------------------------------------------------------------------------------


class FactsInputSerializer(serializers.Serializer):
    radicular_pain = StrictBooleanField(required=False)
    new_onset_pain = StrictBooleanField(required=False)
    disabling_pain = StrictBooleanField(required=False)
    neurological_deficit = StrictBooleanField(required=False)
    conservative_therapy_failed = StrictBooleanField(required=False)
    function_significantly_limited = StrictBooleanField(required=False)
    candidate_for_esi = StrictBooleanField(required=False)
    candidate_for_surgery = StrictBooleanField(required=False)
    biopsychosocial_assessment_done = StrictBooleanField(required=False)


class EpisodeCreateInputSerializer(FactsInputSerializer):
    patient = id_field()
    symptom_onset = date_field()
    conservative_care_start = date_field(required=False, help_text="Default: today.")
    assigned_to = id_field(required=False, allow_null=True)


class EpisodeUpdateInputSerializer(StrictInputSerializer):
    symptom_onset = date_field(required=False)
    conservative_care_start = date_field(required=False)
    assigned_to = id_field(required=False, allow_null=True)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why a date is corrected (required when a date changes).",
    )
    version = id_field(
        required=False, help_text="The version you read; a stale one is 409 conflict."
    )


class RedFlagOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RedFlag
        fields = (
            "id",
            "sign",
            "category",
            "status",
            "source",
            "note",
            "raised_on",
            "raised_at",
            "raised_by",
            "ruled_out_at",
            "ruled_out_by",
            "ruled_out_note",
        )


class RedFlagBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sign = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    raised_at = serializers.DateTimeField(help_text="When it was raised (API.md).")


class RedFlagReportOutputSerializer(serializers.Serializer):
    """A patient's red-flag report that raised no new flag: a clinician reviews it."""

    id = serializers.IntegerField()
    sign = serializers.CharField()
    category = serializers.CharField()
    red_flag = serializers.IntegerField(
        source="red_flag_id", allow_null=True, help_text="The active flag it reports again."
    )
    reported_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    review_note = serializers.CharField()


class RedFlagReportReviewInputSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    due = serializers.DateField()
    rule = serializers.CharField()
    overdue = serializers.BooleanField()


class NextActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    due = serializers.DateField()
    rule = serializers.CharField()


class AvailableTransitionSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=_choices(TransitionName))
    target = serializers.CharField(help_text="The state it leads to.")
    clinician_only = serializers.BooleanField()
    allowed = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)


class CarePlanItemOutputSerializer(serializers.ModelSerializer):
    rule = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    flags = ReasonSerializer(many=True)

    class Meta:
        model = CarePlanItem
        fields = (
            "id",
            "item",
            "category",
            "rule",
            "evidence",
            "started_on",
            "ended_on",
            "note",
            "positive_medial_branch_block",
            "flags",
            "recorded_by",
            "recorded_at",
        )

    def get_rule(self, obj: CarePlanItem) -> str:
        return CATALOGUE[obj.item].rule

    def get_evidence(self, obj: CarePlanItem) -> str:
        return CATALOGUE[obj.item].evidence


class EpisodeOutputSerializer(serializers.Serializer):
    """The episode with what careflow computes from it (``selectors.episode_pathway_view``)."""

    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    care_team = serializers.IntegerField(source="care_team_id")
    assigned_to = serializers.IntegerField(source="assigned_to_id", allow_null=True)
    state = serializers.ChoiceField(choices=_choices(State))
    version = serializers.IntegerField()
    symptom_onset = serializers.DateField()
    conservative_care_start = serializers.DateField()
    enrolled_on = serializers.DateField()
    days_since_onset = serializers.IntegerField()
    days_of_conservative_care = serializers.IntegerField()
    facts = serializers.DictField(child=serializers.BooleanField())
    red_flags = RedFlagBriefSerializer(many=True, help_text="Every red flag, active or not.")
    red_flag_reports = RedFlagReportOutputSerializer(
        many=True,
        help_text="A patient's red-flag reports waiting for a clinician's review "
        "(review_patient_report): a symptom reported again while its flag is active, or "
        "reported on a resolved or closed episode.",
    )
    deadlines = DeadlineSerializer(many=True)
    next_deadline = serializers.DateField(allow_null=True)
    next_deadline_rule = serializers.CharField()
    next_actions = NextActionSerializer(many=True)
    available_transitions = AvailableTransitionSerializer(many=True)
    care_plan = CarePlanItemOutputSerializer(many=True)
    urgent_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReplyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    received_at = serializers.DateTimeField()


class QueueReplySerializer(ReplyBriefSerializer):
    """A row's ``reply``: only rows that carry one have it (those of unread_replies)."""

    def get_attribute(self, instance: Any) -> Any:  # noqa: ANN401 - DRF's signature
        if not hasattr(instance, "reply"):
            raise SkipField
        return super().get_attribute(instance)


class EpisodeSummarySerializer(serializers.ModelSerializer):
    """A queue or list row: enough to choose what to open next, from prefetched rows only."""

    patient_name = serializers.CharField(source="patient.display_name")
    red_flags = serializers.SerializerMethodField(help_text="Active red flags.")
    next_action = serializers.SerializerMethodField()
    reply = QueueReplySerializer(
        required=False,  # an output only, not read_only: the schema lists it as optional
        allow_null=True,
        help_text="Rows of the unread_replies queue only: the episode's oldest unread SMS"
        " reply from the patient.",
    )

    class Meta:
        model = Episode
        fields = (
            "id",
            "patient",
            "patient_name",
            "care_team",
            "state",
            "version",
            "red_flags",
            "next_deadline",
            "next_deadline_rule",
            "next_action",
            "assigned_to",
            "urgent_since",
            "reply",
        )

    @extend_schema_field(RedFlagBriefSerializer(many=True))
    def get_red_flags(self, obj: Episode) -> list[dict[str, Any]]:
        return RedFlagBriefSerializer(active_red_flags(obj), many=True).data

    @extend_schema_field(NextActionSerializer(allow_null=True))
    def get_next_action(self, obj: Episode) -> dict[str, str] | None:
        return episode_next_action(obj)


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
    """``EpisodeOutputSerializer(body).data`` as plain dicts, in one pass (issue 16).

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


# -- clinical facts ------------------------------------------------------------------------------


class AssessmentInputSerializer(FactsInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(name in attrs for name in BOOLEAN_FACTS) and not attrs.get("note"):
            msg = "Record at least one fact or a note."
            raise serializers.ValidationError(msg)
        return attrs


class AssessmentOutputSerializer(serializers.ModelSerializer):
    values = serializers.DictField(child=serializers.BooleanField())

    class Meta:
        model = Assessment
        fields = ("id", "values", "note", "source", "recorded_by", "recorded_at")


class RedFlagInputSerializer(serializers.Serializer):
    sign = serializers.ChoiceField(choices=_choices(Sign))
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class RedFlagUpdateInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=["ruled_out"])
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class ImagingInputSerializer(serializers.Serializer):
    modality = serializers.CharField(max_length=40, required=False)
    performed_on = date_field()
    nerve_root_compression = StrictBooleanField(required=False)
    level = serializers.CharField(max_length=20, required=False, allow_blank=True)
    clinically_correlated = StrictBooleanField(required=False)


class ImagingOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImagingStudy
        fields = (
            "id",
            "modality",
            "performed_on",
            "nerve_root_compression",
            "level",
            "clinically_correlated",
            "recorded_by",
            "recorded_at",
        )


class CarePlanItemInputSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=list(CATALOGUE))
    started_on = date_field(required=False, allow_null=True)
    ended_on = date_field(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    positive_medial_branch_block = StrictBooleanField(required=False)


class CarePlanItemUpdateInputSerializer(StrictInputSerializer):
    started_on = date_field(required=False, allow_null=True)
    ended_on = date_field(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    positive_medial_branch_block = StrictBooleanField(required=False)


# -- transitions ---------------------------------------------------------------------------------


class TransitionInputSerializer(serializers.Serializer):
    version = id_field(
        required=False, help_text="The version you read; a stale one is 409 conflict."
    )


class NoteTransitionInputSerializer(TransitionInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class ScheduleEsiInputSerializer(TransitionInputSerializer):
    # Optional: a missing consent or guidance, or a blind injection (a valid choice), is a
    # guideline refusal with its rule (422, ESI-1 / ESI-2), not malformed input (400).
    guidance = serializers.ChoiceField(choices=["fluoroscopic", "blind"], required=False)
    approach = serializers.ChoiceField(choices=list(ESI_APPROACHES), required=False)
    patient_consented = StrictBooleanField(required=False)


class ReferToSpecialistInputSerializer(TransitionInputSerializer):
    urgency = serializers.ChoiceField(
        choices=Urgency.values,
        required=False,
        help_text="Default: the least urgency the rules ask for (routine when none); a lower "
        "one than they ask for is 422.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class DeclineSurgeryInputSerializer(TransitionInputSerializer):
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": list(FUSION_INDICATIONS)},
            {
                "type": "array",
                "items": {"type": "string", "enum": list(FUSION_INDICATIONS)},
                "minItems": 1,
                "maxItems": len(FUSION_INDICATIONS),
            },
        ]
    }
)
class FusionIndicationField(serializers.Field):
    """One SX-5 code, or a list of them (a reoperation names its qualifier with it)."""

    default_error_messages: ClassVar = {
        "invalid": "One code or a list of codes, each one of: " + ", ".join(FUSION_INDICATIONS),
    }

    def to_internal_value(self, data: object) -> list[str]:
        codes = [data] if isinstance(data, str) else data
        if (
            not isinstance(codes, list)
            or not 0 < len(codes) <= len(FUSION_INDICATIONS)
            or not all(isinstance(c, str) and c in FUSION_INDICATIONS for c in codes)
        ):
            self.fail("invalid")
        return sorted(set(codes))

    def to_representation(self, value: object) -> object:
        return value


class PlanSurgeryInputSerializer(TransitionInputSerializer):
    procedure = serializers.ChoiceField(choices=["discectomy", "fusion"], required=False)
    technique = serializers.ChoiceField(choices=list(DISCECTOMY_TECHNIQUES), required=False)
    fusion_indication = FusionIndicationField(required=False)


class CloseInputSerializer(TransitionInputSerializer):
    reason = serializers.ChoiceField(choices=ClosureReason.values)
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


TRANSITION_INPUT: Final[dict[TransitionName, type[TransitionInputSerializer]]] = {
    TransitionName.ESCALATE: TransitionInputSerializer,
    TransitionName.CLEAR_ESCALATION: NoteTransitionInputSerializer,
    TransitionName.CONFIRM_IMAGING_ELIGIBILITY: TransitionInputSerializer,
    TransitionName.SCHEDULE_ESI: ScheduleEsiInputSerializer,
    TransitionName.REFER_TO_SPECIALIST: ReferToSpecialistInputSerializer,
    TransitionName.BEGIN_SURGICAL_REVIEW: TransitionInputSerializer,
    TransitionName.DECLINE_SURGERY: DeclineSurgeryInputSerializer,
    TransitionName.PLAN_SURGERY: PlanSurgeryInputSerializer,
    TransitionName.DECLARE_REFRACTORY: NoteTransitionInputSerializer,
    TransitionName.RESOLVE: NoteTransitionInputSerializer,
    TransitionName.CLOSE: CloseInputSerializer,
}


class AnyTransitionInputSerializer(TransitionInputSerializer):
    """The union of every transition's fields, for the schema; each name checks its own."""

    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    guidance = serializers.ChoiceField(choices=["fluoroscopic", "blind"], required=False)
    approach = serializers.ChoiceField(choices=list(ESI_APPROACHES), required=False)
    patient_consented = StrictBooleanField(required=False)
    urgency = serializers.ChoiceField(choices=Urgency.values, required=False)
    reason = serializers.CharField(
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text="decline_surgery: free text; refer_to_specialist: free text; close: one of "
        + ", ".join(ClosureReason.values),
    )
    procedure = serializers.ChoiceField(choices=["discectomy", "fusion"], required=False)
    technique = serializers.ChoiceField(choices=list(DISCECTOMY_TECHNIQUES), required=False)
    fusion_indication = FusionIndicationField(required=False)


# -- reminders, timeline, queues -------------------------------------------------------------------


class ReminderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    milestone = serializers.CharField()
    audience = serializers.CharField()
    channel = serializers.CharField()
    milestone_date = serializers.DateField()
    due_at = serializers.DateTimeField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    attempts = serializers.IntegerField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivery_status = serializers.CharField(
        allow_null=True,
        help_text="The provider's latest report on the latest attempt: delivered, "
        "undelivered, failed, bounced, complained, deferred, sent; null or empty before any.",
    )


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(
        help_text="transition, assessment, red_flag_raised, red_flag_ruled_out, "
        "red_flag_reported (a patient's red-flag symptom that raised no new flag), "
        "red_flag_report_reviewed, imaging, "
        "care_plan_item, reminder, delivery_attempt (with the provider's delivery status), "
        "patient_message (an SMS from the patient: opt_out, opt_in, help or reply; a reply "
        "with its id, read_at and read_by), checkin, "
        "correction"
    )
    by = serializers.CharField(allow_null=True, help_text="Username, or null for the system.")
    source = serializers.CharField()
    data = serializers.JSONField()


class ReplyOutputSerializer(serializers.Serializer):
    """A patient's SMS reply: unread until a user of the episode's care team reads it."""

    id = serializers.IntegerField()
    episode = serializers.IntegerField(source="episode_id")
    text = serializers.CharField(source="body")
    received_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    read_by = serializers.IntegerField(source="read_by_id", allow_null=True)


class QueueCountSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
