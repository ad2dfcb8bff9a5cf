"""Admin: patients, care teams, and episodes with their facts, flags, imaging and log.

Episode state is read-only; the transition buttons go through the same service as the
API, so the guards, the audit trail and the reminders behave the same, and a refusal
shows every failing rule.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from django import http
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition, FSMTransitionContext

from careflow.states import State, transitions_from
from episodes import services
from episodes.admin_forms import TRANSITION_FORMS, CareTeamForm
from episodes.models import (
    Assessment,
    CarePlanItem,
    CareTeam,
    CareTeamMembership,
    Episode,
    ImagingStudy,
    Patient,
    RedFlag,
    TransitionLog,
)


class MembershipInline(admin.TabularInline):
    model = CareTeamMembership
    extra = 1
    # Appointed and removed through teams' services (audited): the admin's "team
    # memberships (team leads)" actions, or `manage.py team_lead`.
    readonly_fields = ("is_lead",)


@admin.register(CareTeam)
class CareTeamAdmin(admin.ModelAdmin):
    form = CareTeamForm
    list_display = ("name", "email", "timezone")
    inlines = (MembershipInline,)


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("id", "care_team", "preferred_channel", "language", "created_at")
    list_filter = ("care_team", "preferred_channel", "language")
    search_fields = ("=id", "family_name", "email")

    def save_model(
        self,
        request: http.HttpRequest,
        obj: Patient,
        form: ModelForm,
        change: bool,  # noqa: FBT001
    ) -> None:
        """Through the patient services, so validation and reminder resync apply."""
        fields = {name: form.cleaned_data[name] for name in services.PATIENT_FIELDS}
        try:
            if change:
                saved = services.patient_update(patient_id=obj.pk, fields=fields)
            else:
                saved = services.patient_create(care_team=form.cleaned_data["care_team"], **fields)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return
        obj.pk = saved.pk


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False

    def has_change_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False

    def get_readonly_fields(self, request: http.HttpRequest, obj: Any = None) -> tuple[str, ...]:  # noqa: ANN401, ARG002
        return tuple(self.fields or ())


class AssessmentInline(ReadOnlyInline):
    model = Assessment
    fields = ("recorded_at", "recorded_by", "source", "values", "note")


class RedFlagInline(ReadOnlyInline):
    model = RedFlag
    fields = ("sign", "category", "status", "source", "raised_at", "raised_by", "ruled_out_at")


class ImagingInline(ReadOnlyInline):
    model = ImagingStudy
    fields = (
        "modality",
        "performed_on",
        "nerve_root_compression",
        "level",
        "clinically_correlated",
    )


class CarePlanInline(ReadOnlyInline):
    model = CarePlanItem
    fields = ("item", "category", "started_on", "ended_on", "flags")


class TransitionLogInline(ReadOnlyInline):
    model = TransitionLog
    fields = ("at", "transition", "from_state", "to_state", "by", "source", "body")


@admin.register(Episode)
class EpisodeAdmin(FSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["state"]
    fsm_forms = TRANSITION_FORMS
    list_display = ("id", "state", "care_team", "assigned_to", "next_deadline", "urgent_since")
    list_filter = ("state", "care_team")
    search_fields = ("=id",)
    inlines = (AssessmentInline, RedFlagInline, ImagingInline, CarePlanInline, TransitionLogInline)

    def get_readonly_fields(self, request: http.HttpRequest, obj: Any = None) -> tuple[str, ...]:  # noqa: ANN401, ARG002
        """Every column, derived ones included: the services own them.

        The REF-2/REF-3 anchors, last assessment, education and resolution included; a plain
        Save would bypass the timeline and the transition log. Transitions are the buttons.
        """
        return tuple(field.name for field in Episode._meta.concrete_fields)  # noqa: SLF001

    def has_add_permission(self, request: http.HttpRequest) -> bool:  # noqa: ARG002
        # Episodes are created through the API so that red flags and reminders follow.
        return False

    def save_model(
        self,
        request: http.HttpRequest,
        obj: Episode,
        form: ModelForm,
        change: bool,  # noqa: FBT001
    ) -> None:
        """Every field is read-only here: changes go through services, never a raw save."""

    def is_fsm_transition_visible(self, transition: Any) -> bool:  # noqa: ANN401, ARG002
        return True

    def _get_fsm_extra_context(
        self, *, request: http.HttpRequest, obj: Episode | None
    ) -> Generator[FSMObjectTransition]:
        """Offer every transition from the current state the user may make.

        django-fsm would hide those whose conditions fail; we show them so that a click
        explains, with rule IDs, what blocks it.
        """
        if obj is None:
            return
        allowed = [
            FSMTransitionContext(name=spec.name.value, label=spec.name.value.replace("_", " "))
            for spec in transitions_from(State(obj.state))
            if getattr(obj, spec.name.value)._django_fsm.has_transition_perm(  # noqa: SLF001
                obj, obj.state, request.user
            )
        ]
        if allowed:
            yield FSMObjectTransition(
                fsm_field="state", block_label="Pathway transition", available_transitions=allowed
            )

    def _apply_fsm_transition(
        self,
        *,
        obj: Episode,
        transition_name: str,
        request: http.HttpRequest,
        kwargs: Mapping[str, Any] | None = None,
    ) -> bool:
        try:
            episode = services.episode_transition(
                episode_id=obj.pk, name=transition_name, by=request.user, data=dict(kwargs or {})
            )
        except services.GuardFailedError as exc:
            reasons = "; ".join(f"{r.message} ({r.rule})" for r in exc.reasons)
            messages.error(request, f"{transition_name} refused by the pathway: {reasons}")
            return False
        except services.TransitionError as exc:
            messages.error(request, f"{transition_name} refused: {exc}")
            return False
        except ValidationError as exc:
            messages.error(request, f"{transition_name} refused: {'; '.join(exc.messages)}")
            return False
        messages.success(request, f"{transition_name}: the episode is now {episode.state}.")
        return True


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services: the admin shows them and changes nothing."""

    def has_add_permission(self, request: http.HttpRequest) -> bool:  # noqa: ARG002
        return False

    def has_change_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False

    def has_delete_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False


admin.site.unregister(User)


@admin.register(User)
class CareflowUserAdmin(UserAdmin):
    """Users who touched a record are deactivated, not deleted.

    Their rows are ``PROTECT``ed (every ``*_by`` column), so a delete is refused with the list
    of records that name them; "Deactivate" ends their logins and tokens and keeps who did
    what.
    """

    actions = ("deactivate",)
    list_display = (*UserAdmin.list_display, "is_active")

    @admin.action(description="Deactivate the selected users (they can no longer log in)")
    def deactivate(self, request: http.HttpRequest, queryset: Any) -> None:  # noqa: ANN401
        count = 0
        for user in queryset.filter(is_active=True):
            user.is_active = False
            user.save(update_fields=["is_active"])  # pre_save revokes their API tokens
            count += 1
        messages.success(request, f"{count} user(s) deactivated.")
