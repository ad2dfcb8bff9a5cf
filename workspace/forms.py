"""HTML forms drawn from the API's own input serializers, so both validate alike.

A page form is a list of ``Field`` built from a serializer's fields (a choice is a select or
radios, a strict boolean a checkbox, a date a date input, text a text area); a submitted
form is turned back into the JSON-shaped dict the serializer expects (a checkbox becomes
``true``/``false``, an empty optional field is left out) and validated by that serializer.
A field the API adds tomorrow appears here without a template change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.fields import StrictBooleanField

LABELS: dict[str, Any] = {
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    "birth_date": _("Date of birth"),
    "email": _("Email address"),
    "phone": _("Mobile phone number"),
    "timezone": _("Time zone"),
    "preferred_channel": _("How reminders reach the patient"),
    "sms_consent": _("The patient agrees to text messages"),
    "opted_out": _("The patient wants no reminders"),
    "language": _("Language of reminders and check-ins"),
    "care_team": _("Care team"),
    "symptom_onset": _("Date the symptoms began"),
    "conservative_care_start": _("Date conservative care began"),
    "assigned_to": _("Assigned to"),
    "radicular_pain": _("Radicular (leg) pain"),
    "new_onset_pain": _("New-onset pain"),
    "disabling_pain": _("Disabling pain"),
    "neurological_deficit": _("Neurological deficit"),
    "conservative_therapy_failed": _("Conservative therapy has failed"),
    "function_significantly_limited": _("Function significantly limited"),
    "candidate_for_esi": _("Candidate for an epidural steroid injection"),
    "candidate_for_surgery": _("Candidate for surgery"),
    "biopsychosocial_assessment_done": _("Biopsychosocial assessment done"),
    "note": _("Note"),
    "sign": _("Red-flag sign"),
    "modality": _("Modality"),
    "performed_on": _("Date performed"),
    "nerve_root_compression": _("Nerve-root compression seen"),
    "level": _("Level (for example L5-S1)"),
    "clinically_correlated": _("Clinically correlated with the symptoms"),
    "item": _("Care-plan item"),
    "started_on": _("Started on"),
    "ended_on": _("Ended on"),
    "positive_medial_branch_block": _("Positive medial branch blocks"),
    "guidance": _("Guidance"),
    "approach": _("Approach"),
    "patient_consented": _("The patient consents"),
    "urgency": _("Urgency"),
    "reason": _("Reason"),
    "procedure": _("Procedure"),
    "technique": _("Technique"),
    "fusion_indication": _("Fusion indication"),
    "kind": _("What happened"),
}
HINTS: dict[str, Any] = {
    "birth_date": _("For example 1984-04-02"),
    "phone": _("International format, for example +15551230000"),
    "symptom_onset": _("Dates are the patient's local dates"),
    "conservative_care_start": _("Leave empty for today"),
    "timezone": _("The patient's IANA time zone, for example Europe/London"),
}


def label_for(name: str) -> str:
    return str(LABELS.get(name, name.replace("_", " ").capitalize()))


@dataclass
class Field:
    name: str
    label: str
    kind: str  # "select", "radios", "checkbox", "date", "text", "textarea", "number"
    required: bool
    id: str
    value: Any = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hint: str = ""


def _kind(f: serializers.Field) -> str:
    if isinstance(f, StrictBooleanField | serializers.BooleanField):
        return "checkbox"
    if isinstance(f, serializers.ChoiceField):
        return "radios" if len(f.choices) <= 6 else "select"  # noqa: PLR2004
    if isinstance(f, serializers.DateField):
        return "date"
    if isinstance(f, serializers.IntegerField):
        return "number"
    if isinstance(f, serializers.CharField) and (f.max_length or 10_000) <= 254:  # noqa: PLR2004
        return "text"
    return "textarea"


def build_fields(
    serializer_class: type[serializers.Serializer],
    *,
    prefix: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    exclude: Iterable[str] = ("version",),
    choice_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Field]:
    values = values or {}
    errors = errors or {}
    skip = set(exclude)
    out = []
    for name, f in serializer_class().fields.items():
        if name in skip or f.read_only:
            continue
        kind = _kind(f)
        labels = (choice_labels or {}).get(name, {})
        choices = (
            [
                (str(k), str(labels.get(str(k), str(v).replace("_", " "))))
                for k, v in f.choices.items()
            ]
            if isinstance(f, serializers.ChoiceField)
            else []
        )
        default = f.default if f.default is not serializers.empty else ""
        value = values.get(name, default)
        out.append(
            Field(
                name=name,
                label=label_for(name),
                kind=kind,
                required=bool(f.required),
                id=f"{prefix}-{name}",
                value="" if value is None else value,
                choices=choices,
                errors=[str(e) for e in errors.get(name, [])],
                hint=str(HINTS.get(name, "")),
            )
        )
    return out


def submitted(
    serializer_class: type[serializers.Serializer], post: QueryDict, *, exclude: Iterable[str] = ()
) -> dict[str, Any]:
    """The POSTed form as the JSON body the serializer expects."""
    skip = set(exclude)
    data: dict[str, Any] = {}
    for name, f in serializer_class().fields.items():
        if name in skip or f.read_only:
            continue
        if isinstance(f, StrictBooleanField | serializers.BooleanField):
            data[name] = post.get(name) == "true"
            continue
        raw = post.get(name)
        if raw is None or (raw.strip() == "" and not f.required):
            continue
        data[name] = raw
    return data


def validate(
    serializer_class: type[serializers.Serializer], data: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    serializer = serializer_class(data=dict(data))
    if serializer.is_valid():
        return dict(serializer.validated_data), {}
    return None, {k: [str(m) for m in v] for k, v in serializer.errors.items()}
