"""HTML forms drawn from the API's own input serializers, so both validate alike.

A page form is a list of ``Field`` built from a serializer's fields (a choice is a select or
radios, a strict boolean a checkbox, a date the three-field date input, text a text area,
a time zone a select of the IANA names); a submitted form is turned back into the
JSON-shaped dict the serializer expects (a checkbox becomes ``true``/``false``, a date's
day, month and year become ``YYYY-MM-DD``, an empty optional field is left out) and
validated by that serializer. A field the API adds tomorrow appears here without a
template change.

What a coordinator reads when a form is refused is the NHS.UK design system's wording
(https://service-manual.nhs.uk/design-system/components/error-message), not the data
model's: ``MESSAGES`` maps each field's error codes (DRF's, the serializers' and the
services' own, and the date input's) to those words, in this one place. ``error_summary``
lists them at the top of a page, in form order, each linking to its field
(https://service-manual.nhs.uk/design-system/components/error-summary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.fields import StrictBooleanField
from episodes.models import iana_zones

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
    "birth_date": _("For example, 15 3 1984"),
    "phone": _("International format, for example +15551230000"),
    "symptom_onset": _("The patient's local date, for example 27 10 2026"),
    "conservative_care_start": _("Leave empty for today"),
    "timezone": _(
        "Where the patient lives: reminders and their quiet hours follow the patient's"
        " local time. The care team's time zone is chosen unless you choose another."
    ),
}

# Each date field in words: (what it is, after "Enter the" / "Enter a"; the same as the
# start of a sentence). The date input's messages are built from them (_date_messages).
DATE_WORDS: Final[dict[str, tuple[Any, Any]]] = {
    "birth_date": (_("date of birth"), _("Date of birth")),
    "symptom_onset": (_("date the symptoms began"), _("The date the symptoms began")),
    "conservative_care_start": (
        _("date conservative care began"),
        _("The date conservative care began"),
    ),
    "performed_on": (_("date the imaging was done"), _("The date the imaging was done")),
    "started_on": (_("date the item started"), _("The date the item started")),
    "ended_on": (_("date the item ended"), _("The date the item ended")),
}


def _date_messages(name: str, **own: Any) -> dict[str, Any]:
    """A date field's messages: the date input's, then the field's own (``own``)."""
    what, what_cap = DATE_WORDS[name]
    return {
        "required": format_lazy(_("Enter the {what}"), what=what),
        "incomplete": format_lazy(
            _("Enter a {what} that includes a day, month and year"), what=what
        ),
        "not_real": format_lazy(_("{what} must be a real date"), what=what_cap),
        "year_digits": _("Year must include 4 numbers"),
        "future": format_lazy(_("{what} must be today or in the past"), what=what_cap),
        "before_1900": format_lazy(_("{what} must be on or after 1 January 1900"), what=what_cap),
        **own,
    }


_ENTER_GIVEN = _("Enter the patient's given name")
_ENTER_FAMILY = _("Enter the patient's family name")
_SELECT_CHANNEL = _("Select how reminders reach the patient")

# Field -> error code -> what the coordinator reads. Codes: DRF's (``required``, ``blank``,
# ``null``, ``invalid``, ``max_length``, ``invalid_choice``), the serializers' and services'
# own (``future``, ``before_1900``, ``before_onset``, ``before_start``, ``sms_unreachable``)
# and the date input's (``incomplete``, ``not_real``, ``year_digits``). A field or code
# missing here gets the generic words of ``_generic``; an error without a code keeps its
# own sentence.
MESSAGES: Final[dict[str, dict[str, Any]]] = {
    "care_team": {"required": _("Select the patient's care team")},
    "given_name": {
        "required": _ENTER_GIVEN,
        "blank": _ENTER_GIVEN,
        "max_length": _("Given name must be 100 characters or fewer"),
    },
    "family_name": {
        "required": _ENTER_FAMILY,
        "blank": _ENTER_FAMILY,
        "max_length": _("Family name must be 100 characters or fewer"),
    },
    "birth_date": _date_messages(
        "birth_date",
        required=_("Enter the patient's date of birth"),
        future=_("Date of birth must be in the past"),
    ),
    "email": {
        "invalid": _("Enter an email address in the correct format, like name@example.com"),
        "max_length": _("Email address must be 254 characters or fewer"),
    },
    "phone": {
        "invalid": _("Enter a mobile phone number in international format, like +15551230000"),
        "max_length": _("Enter a mobile phone number in international format, like +15551230000"),
    },
    "timezone": {"invalid": _("Select the patient's time zone from the list")},
    "preferred_channel": {
        "required": _SELECT_CHANNEL,
        "invalid_choice": _SELECT_CHANNEL,
        "sms_unreachable": _(
            "To send reminders by SMS, enter a mobile phone number and tick that the patient"
            " agrees to text messages"
        ),
    },
    "language": {"invalid_choice": _("Select the language of reminders and check-ins")},
    "symptom_onset": _date_messages("symptom_onset"),
    "conservative_care_start": _date_messages(
        "conservative_care_start",
        before_onset=_(
            "The date conservative care began must be the same as or after the date the"
            " symptoms began"
        ),
    ),
    "performed_on": _date_messages("performed_on"),
    "started_on": _date_messages("started_on"),
    "ended_on": _date_messages(
        "ended_on",
        before_start=_("The date the item ended must be the same as or after the date it started"),
    ),
    "note": {"required": _("Enter a note"), "blank": _("Enter a note")},
    "reason": {"required": _("Enter the reason"), "blank": _("Enter the reason")},
    "sign": {"required": _("Select the red-flag sign")},
    "item": {"required": _("Select a care-plan item")},
    "urgency": {"required": _("Select how urgent the referral is")},
    "kind": {"required": _("Select what happened")},
}


def label_for(name: str) -> str:
    return str(LABELS.get(name, name.replace("_", " ").capitalize()))


@dataclass
class DatePart:
    """One of a date input's three boxes."""

    name: str
    label: str
    id: str
    value: str
    width: int  # the NHS.UK input width class: 2 characters, or 4 for the year
    error: bool = False


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
    # A select's options in labelled groups (the time zones by region), instead of choices.
    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    parts: list[DatePart] = field(default_factory=list)  # a date's day, month and year

    @property
    def group_options(self) -> SafeString:
        """``groups`` as <optgroup> HTML, the value selected: built once per list of groups.

        The time-zone select holds about 600 options; drawn by the template on every page
        that has it, they were a third of the episode page's time.
        """
        text = _options_html(tuple((g, tuple(o)) for g, o in self.groups))
        chosen = f'<option value="{escape(self.value)}">'
        if self.value and chosen in text:
            text = text.replace(chosen, f'<option value="{escape(self.value)}" selected>', 1)
        return mark_safe(text)  # noqa: S308 - every part escaped in _options_html

    @property
    def anchor(self) -> str:
        """The id the error summary links to: the input to correct first."""
        wrong = [p for p in self.parts if p.error] or self.parts
        return wrong[0].id if wrong else self.id

    @property
    def described_by(self) -> str:
        ids = [f"{self.id}-hint"] if self.hint else []
        return " ".join([*ids, f"{self.id}-error"] if self.errors else ids)


# -- the three-field date input ------------------------------------------------------------

DAY, MONTH, YEAR = "day", "month", "year"
_PART_LENGTH: Final = 10  # longer than any real day, month or year: the rest is dropped


def _split_date(value: Any) -> tuple[str, str, str]:  # noqa: ANN401 - a date, a str or ""
    """(day, month, year) as the boxes show them, from a date or ``submitted``'s text."""
    if isinstance(value, date):
        return str(value.day), str(value.month), str(value.year)
    pieces = str(value or "").split("-")
    if len(pieces) != 3:  # noqa: PLR2004 - year, month, day
        return "", "", ""
    year, month, day = pieces

    def shown(part: str) -> str:  # "03" as 3, as typed; never int(): a part may be huge
        return (part.lstrip("0") or "0") if part.isascii() and part.isdigit() else part

    return shown(day), shown(month), year


def _date_problem(day: str, month: str, year: str) -> str | None:
    """What is wrong with a date as typed: the date input's own codes, or None."""
    if not (day and month and year):
        return "incomplete"
    if not all(p.isascii() and p.isdigit() for p in (day, month, year)):
        return "not_real"
    if len(year) != 4:  # noqa: PLR2004
        return "year_digits"
    try:
        date(int(year), int(month), int(day))
    except (ValueError, OverflowError):  # OverflowError: a part beyond a C int
        return "not_real"
    return None


def _submitted_date(post: QueryDict, name: str) -> str | None:
    """The date's three boxes as ``YYYY-MM-DD``; as typed (``year-month-day``) if not a date.

    A date that is not one is still passed on, so the serializer refuses it and the form
    shows the boxes as they were typed. A client that posts the date whole under the field's
    own name (a script, the tests) is taken as it is.
    """
    keys = [f"{name}-{part}" for part in (DAY, MONTH, YEAR)]
    if not any(key in post for key in keys):
        return post.get(name)
    day, month, year = (post.get(key, "").strip().replace("-", " ")[:_PART_LENGTH] for key in keys)
    if not (day or month or year):
        return None
    if _date_problem(day, month, year) is None:
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return f"{year}-{month}-{day}"


def _date_parts(f: Field, code: str | None) -> list[DatePart]:
    day, month, year = _split_date(f.value)
    parts = [
        DatePart(f"{f.name}-{DAY}", _t("Day"), f"{f.id}-{DAY}", day, 2),
        DatePart(f"{f.name}-{MONTH}", _t("Month"), f"{f.id}-{MONTH}", month, 2),
        DatePart(f"{f.name}-{YEAR}", _t("Year"), f"{f.id}-{YEAR}", year, 4),
    ]
    if f.errors:
        # The boxes to correct: the empty ones of an incomplete date, the year of a short
        # one, else all three.
        if code == "incomplete":
            wrong = [p for p in parts if not p.value]
        elif code == "year_digits":
            wrong = parts[2:]
        else:
            wrong = parts
        for part in wrong:
            part.error = True
    return parts


# -- the time zones, from a list -----------------------------------------------------------

# The IANA regions a person lives in; every other name the tz database has (US/Eastern, Etc/
# GMT+5, UTC…) is kept, last, in a group of its own ("Other names").
ZONE_REGIONS: Final = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@lru_cache(maxsize=16)
def _options_html(groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> str:
    return "".join(
        f'<optgroup label="{escape(group)}">'
        + "".join(f'<option value="{escape(v)}">{escape(t)}</option>' for v, t in options)
        + "</optgroup>"
        for group, options in groups
    )


@cache
def zone_groups() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Every name of ``iana_zones()`` by region, each as (value, words shown)."""
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in (*ZONE_REGIONS, "")}
    for zone in sorted(iana_zones()):
        region = zone.split("/", 1)[0]
        groups[region if region in ZONE_REGIONS else ""].append((zone, zone.replace("_", " ")))
    return tuple((region, tuple(zones)) for region, zones in groups.items() if zones)


def _zone_options() -> list[tuple[str, list[tuple[str, str]]]]:
    other = _t("Other names")
    return [(region or other, list(zones)) for region, zones in zone_groups()]


# Fields whose values come from a list the serializer does not hold: a select of groups.
OPTION_GROUPS: Final[dict[str, Callable[[], list[tuple[str, list[tuple[str, str]]]]]]] = {
    "timezone": _zone_options,
}


# -- fields, submissions, errors -----------------------------------------------------------


# A serializer field's class -> how the form asks it (a ChoiceField: radios or a select).
_KINDS: Final = (
    (serializers.BooleanField, "checkbox"),  # StrictBooleanField too
    (serializers.DateField, "date"),
    (serializers.IntegerField, "number"),
)


def _kind(name: str, f: serializers.Field) -> str:
    if name in OPTION_GROUPS:
        return "select"
    if isinstance(f, serializers.ChoiceField):
        return "radios" if len(f.choices) <= 6 else "select"  # noqa: PLR2004
    for cls, kind in _KINDS:
        if isinstance(f, cls):
            return kind
    short = isinstance(f, serializers.CharField) and (f.max_length or 10_000) <= 254  # noqa: PLR2004
    return "text" if short else "textarea"


@cache
def _writable_fields(
    serializer_class: type[serializers.Serializer],
) -> tuple[tuple[str, serializers.Field, str], ...]:
    """A serializer's writable fields, each with how the form asks it: read once a class.

    DRF deep-copies every declared field each time a serializer is made; the episode page
    builds a dozen forms, and those copies were a sixth of its context's CPU. The fields
    are only read here (their choices, default, required), and the input serializers build
    them from constants, so one set serves every page.
    """
    return tuple(
        (name, f, _kind(name, f))
        for name, f in serializer_class().fields.items()
        if not f.read_only
    )


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
    for name, f, kind in _writable_fields(serializer_class):
        if name in skip:
            continue
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
        built = Field(
            name=name,
            label=label_for(name),
            kind=kind,
            required=bool(f.required),
            id=f"{prefix}-{name}",
            value="" if value is None else value,
            choices=choices,
            errors=[str(e) for e in errors.get(name, [])],
            hint=str(HINTS.get(name, "")),
            groups=OPTION_GROUPS[name]() if name in OPTION_GROUPS else [],
        )
        if kind == "date":
            built.parts = _date_parts(built, _date_problem(*_split_date(value)))
        out.append(built)
    return out


def submitted(
    serializer_class: type[serializers.Serializer], post: QueryDict, *, exclude: Iterable[str] = ()
) -> dict[str, Any]:
    """The POSTed form as the JSON body the serializer expects."""
    skip = set(exclude)
    data: dict[str, Any] = {}
    for name, f, _kind_of in _writable_fields(serializer_class):
        if name in skip:
            continue
        if isinstance(f, StrictBooleanField | serializers.BooleanField):
            data[name] = post.get(name) == "true"
            continue
        if isinstance(f, serializers.DateField):
            raw = _submitted_date(post, name)
            # An empty date is a missing one: "Enter the date…", not "wrong format".
            if raw is None or raw.strip() == "":
                continue
        else:
            raw = post.get(name)
        if raw is None or (raw.strip() == "" and not f.required):
            continue
        data[name] = raw
    return data


def _generic(code: str, label: str, kind: str) -> str | None:
    """Words for a code a field has no entry for in ``MESSAGES``."""
    choose = kind in {"select", "radios"}
    if code in {"required", "blank", "null"}:
        return (_t("Select %(what)s") if choose else _t("Enter %(what)s")) % {"what": label.lower()}
    if code == "invalid_choice":
        return _t("Select %(what)s from the list") % {"what": label.lower()}
    if code == "max_length":
        return _t("%(what)s is too long") % {"what": label}
    return None


def message(name: str, code: str | None, text: str, *, kind: str = "text") -> str:
    """What a coordinator reads for one error of a field: NHS words, or the error's own."""
    if code is None:
        return text
    words = MESSAGES.get(name, {}).get(code)
    if words is not None:
        return str(words)
    # A validator's own sentence ("A valid integer is required.") does not say which field:
    # the summary's link would not either.
    return _generic(code, label_for(name), kind) or f"{label_for(name)}: {text}"


def validate(
    serializer_class: type[serializers.Serializer], data: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The serializer's verdict on ``submitted``'s data; its errors in a coordinator's words."""
    serializer = serializer_class(data=dict(data))
    if serializer.is_valid():
        return dict(serializer.validated_data), {}
    fields = serializer.fields
    out: dict[str, list[str]] = {}
    for name, details in serializer.errors.items():
        f = fields.get(name)
        kind = _kind(name, f) if f is not None else "text"
        words = []
        for detail in details if isinstance(details, list) else [details]:
            code = getattr(detail, "code", None)
            if kind == "date" and code == "invalid":
                parts = _split_date(data.get(name))  # all empty: not a date's shape at all
                code = (_date_problem(*parts) if any(parts) else None) or "not_real"
            words.append(message(name, code, str(detail), kind=kind))
        out[name] = words
    return None, out


def service_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A service's refusal (Django's ValidationError) in a coordinator's words, by field."""
    if not hasattr(exc, "error_dict"):
        return {"__all__": list(exc.messages)}
    return {
        name: [message(name, e.code, next(iter(e.messages), "")) for e in errors]
        for name, errors in exc.error_dict.items()
    }


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of the error summary: what is wrong, and the link to the field to correct."""

    text: str
    href: str  # "#<input id>"; empty when the error belongs to no field on the page


def error_summary(fields: Iterable[Field], errors: Mapping[str, list[str]]) -> list[Problem]:
    """The summary at the top of the page: each field's first error, in form order.

    An error that belongs to the form as a whole (or to no field drawn) comes first,
    linking to the form's first field.
    """
    drawn = list(fields)
    names = {f.name for f in drawn}
    first = f"#{drawn[0].anchor}" if drawn else ""
    loose = [
        Problem(words[0], first) for name, words in errors.items() if name not in names and words
    ]
    return loose + [Problem(f.errors[0], f"#{f.anchor}") for f in drawn if f.errors]
