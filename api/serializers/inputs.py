"""What clients send: the input serializers of the HTTP API (API.md).

They check shape and types (400); the services check the pathway's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from django.utils import timezone
from rest_framework import serializers

from api.serializers.fields import (
    E164,
    FusionIndicationField,
    StrictBooleanField,
    StrictCharField,
    choices,
    date_field,
    id_field,
)
from careflow.careplan import CATALOGUE
from careflow.facts import BOOLEAN_FACTS
from careflow.guards import DISCECTOMY_TECHNIQUES, ESI_APPROACHES
from careflow.redflags import DERIVED_SIGNS, Sign
from careflow.states import TransitionName
from episodes.models import Channel, ClosureReason, Language, Urgency, validate_timezone


def _not_in_future(value: date) -> None:
    if value > timezone.localdate():
        msg = "Cannot be in the future."
        raise serializers.ValidationError(msg, code="future")


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
    given_name = StrictCharField(max_length=100)
    family_name = StrictCharField(max_length=100)
    birth_date = date_field(validators=[_not_in_future])
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.RegexField(
        E164, max_length=16, required=False, allow_blank=True, help_text="E.164"
    )
    timezone = StrictCharField(
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

    reason = StrictCharField(
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text="Why the birth date is corrected (required when it changes; never blank).",
    )


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
    reason = StrictCharField(
        required=False,
        max_length=2000,
        help_text="Why a date is corrected (required when a date changes; never blank).",
    )
    version = id_field(
        required=False, help_text="The version you read; a stale one is 409 conflict."
    )


class RedFlagReportReviewInputSerializer(StrictInputSerializer):
    note = StrictCharField(max_length=TEXT_MAX_LENGTH)


# -- clinical facts ------------------------------------------------------------------------------


class AssessmentInputSerializer(FactsInputSerializer):
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(name in attrs for name in BOOLEAN_FACTS) and not attrs.get("note"):
            msg = "Record at least one fact or a note."
            raise serializers.ValidationError(msg)
        return attrs


ALL_SIGNS: Final = choices(Sign)
RAISABLE_SIGNS: Final = [sign for sign in ALL_SIGNS if sign not in DERIVED_SIGNS]


class RaisableSignField(serializers.ChoiceField):
    """A sign a user may raise; the derived ones (RF-3's age) are the system's, not offered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RAISABLE_SIGNS, **kwargs)

    def to_internal_value(self, data: Any) -> str:  # noqa: ANN401 - whatever the client sent
        if isinstance(data, str) and data in DERIVED_SIGNS:
            msg = f"{data} is derived by the system from the facts."
            raise serializers.ValidationError(msg, code="derived")
        return super().to_internal_value(data)


class RedFlagInputSerializer(serializers.Serializer):
    sign = RaisableSignField()
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class RedFlagUpdateInputSerializer(StrictInputSerializer):
    status = serializers.ChoiceField(choices=["ruled_out"])
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class ImagingInputSerializer(serializers.Serializer):
    modality = StrictCharField(max_length=40, required=False)
    performed_on = date_field()
    nerve_root_compression = StrictBooleanField(required=False)
    level = StrictCharField(max_length=20, required=False, allow_blank=True)
    clinically_correlated = StrictBooleanField(required=False)


class CarePlanItemInputSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=list(CATALOGUE))
    started_on = date_field(required=False, allow_null=True)
    ended_on = date_field(required=False, allow_null=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    positive_medial_branch_block = StrictBooleanField(required=False)


class CarePlanItemUpdateInputSerializer(StrictInputSerializer):
    started_on = date_field(required=False, allow_null=True)
    ended_on = date_field(required=False, allow_null=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    positive_medial_branch_block = StrictBooleanField(required=False)


# -- transitions ---------------------------------------------------------------------------------


class TransitionInputSerializer(serializers.Serializer):
    version = id_field(
        required=False, help_text="The version you read; a stale one is 409 conflict."
    )


class NoteTransitionInputSerializer(TransitionInputSerializer):
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


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
    reason = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


class DeclineSurgeryInputSerializer(TransitionInputSerializer):
    reason = StrictCharField(max_length=TEXT_MAX_LENGTH)


class PlanSurgeryInputSerializer(TransitionInputSerializer):
    procedure = serializers.ChoiceField(choices=["discectomy", "fusion"], required=False)
    technique = serializers.ChoiceField(choices=list(DISCECTOMY_TECHNIQUES), required=False)
    fusion_indication = FusionIndicationField(required=False)


class CloseInputSerializer(TransitionInputSerializer):
    reason = serializers.ChoiceField(choices=ClosureReason.values)
    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)


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

    note = StrictCharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    guidance = serializers.ChoiceField(choices=["fluoroscopic", "blind"], required=False)
    approach = serializers.ChoiceField(choices=list(ESI_APPROACHES), required=False)
    patient_consented = StrictBooleanField(required=False)
    urgency = serializers.ChoiceField(choices=Urgency.values, required=False)
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="decline_surgery: free text, not blank; refer_to_specialist: free text; "
        "close: one of " + ", ".join(ClosureReason.values),
    )
    procedure = serializers.ChoiceField(choices=["discectomy", "fusion"], required=False)
    technique = serializers.ChoiceField(choices=list(DISCECTOMY_TECHNIQUES), required=False)
    fusion_indication = FusionIndicationField(required=False)


class PatientSearchInputSerializer(StrictInputSerializer):
    q = StrictCharField(
        max_length=100,
        help_text="Any part of the name (accents and case ignored), or the date of birth"
        " (1968-04-02 or 02/04/1968).",
    )
