"""Admin: the schedule of record, read-only, for operators and the on-call engineer.

Rows change only through the notification services (scheduling, dispatch, delivery); the
admin shows what is due, what was sent and why something failed or was skipped.
"""

from __future__ import annotations

from typing import Any

from django import http
from django.contrib import admin

from episodes.admin import ReadOnlyAdmin
from notifications.models import DeliveryAttempt, PatientMessage, Reminder


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("attempt", "at", "finished_at", "channel", "outcome", "error", "provider_message_id")
    readonly_fields = fields

    def has_add_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return False


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "episode_id",
        "milestone",
        "audience",
        "channel",
        "status",
        "due_at",
        "next_attempt_at",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "milestone", "audience", "channel")
    search_fields = ("=id", "=episode__id")
    date_hierarchy = "due_at"
    inlines = (DeliveryAttemptInline,)
    readonly_fields = tuple(f.name for f in Reminder._meta.get_fields() if f.concrete)  # noqa: SLF001 - Django's model API


@admin.register(PatientMessage)
class PatientMessageAdmin(ReadOnlyAdmin):
    """Patients' SMS as they came in; those with no episode reached no care team.

    An SMS from a number several care teams' patients share, where no reminder ever went,
    is matched to nobody: operations see it here (filter "episode: empty") and follow up.
    """

    list_display = ("id", "episode_id", "kind", "from_number", "received_at", "read_at")
    list_filter = ("kind", ("episode", admin.EmptyFieldListFilter))
    search_fields = ("=id", "=episode__id", "=from_number")
    date_hierarchy = "received_at"
    readonly_fields = tuple(f.name for f in PatientMessage._meta.get_fields() if f.concrete)  # noqa: SLF001 - Django's model API
