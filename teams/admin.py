"""The admin's part in running teams: superusers appoint and remove team leads (audited).

Every row here is read-only; the two actions go through ``teams.services``, as the
workspace's pages do, so each appointment leaves its ``TeamChange`` row.
"""

from __future__ import annotations

from typing import Any

from django import http
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from teams import services
from teams.models import Invitation, TeamChange, TeamLeadMembership


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: http.HttpRequest) -> bool:  # noqa: ARG002
        return False

    def has_change_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False

    def has_delete_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False


@admin.register(TeamLeadMembership)
class TeamLeadMembershipAdmin(_ReadOnly):
    list_display = ("user", "team", "role", "is_lead")
    list_filter = ("is_lead", "team")
    search_fields = ("user__username", "user__first_name", "user__last_name", "team__name")
    list_select_related = ("user", "team")
    actions = ("appoint_lead", "remove_lead")

    def _each(self, request: http.HttpRequest, queryset: Any, service: Any, done: str) -> None:  # noqa: ANN401
        count = 0
        for membership in queryset:
            try:
                service(team_id=membership.team_id, user_id=membership.user_id, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(
                    request, f"{membership}: {' '.join(getattr(exc, 'messages', [str(exc)]))}"
                )
            else:
                count += 1
        messages.success(request, f"{count} membership(s) {done}.")

    @admin.action(description="Make the selected members team leads")
    def appoint_lead(self, request: http.HttpRequest, queryset: Any) -> None:  # noqa: ANN401
        self._each(request, queryset, services.team_lead_appoint, "made team leads")

    @admin.action(description="Remove the selected members' team-lead role")
    def remove_lead(self, request: http.HttpRequest, queryset: Any) -> None:  # noqa: ANN401
        self._each(request, queryset, services.team_lead_remove, "no longer team leads")

    def has_change_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        # The actions need it; every field stays read-only (get_readonly_fields).
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: http.HttpRequest, obj: Any = None) -> list[str]:  # noqa: ANN401, ARG002
        return ["team", "user", "role", "is_lead"]


@admin.register(TeamChange)
class TeamChangeAdmin(_ReadOnly):
    list_display = ("at", "team", "by_name", "action", "subject_name", "detail")
    list_filter = ("action", "team")
    date_hierarchy = "at"


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly):
    list_display = ("email", "team", "role", "created_at", "expires_at", "sent_at", "accepted_at")
    list_filter = ("team",)
    exclude = ("nonce",)
