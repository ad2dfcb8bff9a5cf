"""Forms of the admin: a care team's (its time zone from a list), and the transition buttons'.

The transition forms hold the bodies API.md lists per transition.
"""

from __future__ import annotations

from django import forms

from careflow.guards import DISCECTOMY_TECHNIQUES, FUSION_INDICATIONS
from episodes.models import CareTeam, ClosureReason, Urgency, iana_zones


def _choices(values: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class CareTeamForm(forms.ModelForm):
    """The time zone chosen from the IANA names, never typed (a typo would be a 400 later)."""

    timezone = forms.ChoiceField(
        choices=[(zone, zone) for zone in sorted(iana_zones())],
        help_text=CareTeam._meta.get_field("timezone").help_text,  # noqa: SLF001
    )

    class Meta:
        model = CareTeam
        fields = ("name", "email", "timezone")


class NoteForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ScheduleEsiForm(forms.Form):
    guidance = forms.ChoiceField(choices=_choices(["fluoroscopic", "blind"]))
    approach = forms.ChoiceField(choices=_choices(["interlaminar", "transforaminal"]))
    patient_consented = forms.BooleanField(required=False)


class ReferForm(forms.Form):
    urgency = forms.ChoiceField(choices=Urgency.choices)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DeclineSurgeryForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class PlanSurgeryForm(forms.Form):
    procedure = forms.ChoiceField(choices=_choices(["discectomy", "fusion"]))
    technique = forms.ChoiceField(
        choices=[("", "-"), *_choices(DISCECTOMY_TECHNIQUES)], required=False
    )
    fusion_indication = forms.ChoiceField(
        choices=[("", "-"), *_choices(FUSION_INDICATIONS)], required=False
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(choices=ClosureReason.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


# Every transition gets a confirmation page: those without a body of their own take a note.
TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "escalate": NoteForm,
    "clear_escalation": NoteForm,
    "confirm_imaging_eligibility": NoteForm,
    "begin_surgical_review": NoteForm,
    "schedule_esi": ScheduleEsiForm,
    "refer_to_specialist": ReferForm,
    "decline_surgery": DeclineSurgeryForm,
    "plan_surgery": PlanSurgeryForm,
    "declare_refractory": NoteForm,
    "resolve": NoteForm,
    "close": CloseForm,
}
