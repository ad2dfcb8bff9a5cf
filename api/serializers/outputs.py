"""What clients get: the output serializers of the HTTP API (API.md), errors included.

The OpenAPI schema names these; the two hottest answers (an episode, a queue page) are
written as plain dicts with the same JSON by ``api.serializers.plain``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from api.serializers.fields import choices
from careflow.careplan import CATALOGUE
from careflow.states import State, TransitionName
from episodes.models import Assessment, CarePlanItem, Episode, ImagingStudy, Patient, RedFlag
from episodes.selectors import active_red_flags, episode_next_action
from notifications.channels import patient_reach

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


class EpisodeBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()


class PatientRowSerializer(PatientOutputSerializer):
    """A patient in a list or a search, with their episodes (open or not), oldest first."""

    episodes = EpisodeBriefSerializer(many=True, read_only=True)

    class Meta(PatientOutputSerializer.Meta):
        fields = (*PatientOutputSerializer.Meta.fields, "episodes")


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
    name = serializers.ChoiceField(choices=choices(TransitionName))
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
    state = serializers.ChoiceField(choices=choices(State))
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


class AssessmentOutputSerializer(serializers.ModelSerializer):
    values = serializers.DictField(child=serializers.BooleanField())

    class Meta:
        model = Assessment
        fields = ("id", "values", "note", "source", "recorded_by", "recorded_at")


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


class ImagingRecordedOutputSerializer(ImagingOutputSerializer):
    """The study just recorded, with what recording it tells the care team."""

    warnings = serializers.SerializerMethodField(
        help_text="Never a refusal: the study is recorded. IM-2 when it was performed before"
        " day 42 of conservative care with no red flag active that day (it counts as"
        " low-value imaging in the adherence report); empty otherwise.",
    )

    class Meta(ImagingOutputSerializer.Meta):
        fields = (*ImagingOutputSerializer.Meta.fields, "warnings")

    @extend_schema_field(ReasonSerializer(many=True))
    def get_warnings(self, study: ImagingStudy) -> list[dict[str, str]]:
        return [r.as_dict() for r in getattr(study, "warnings", [])]


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
        "correction, outreach (a coordinator's call, message or letter: kind, note)"
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
