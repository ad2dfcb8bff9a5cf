"""Admin: the access records, for superusers only and read-only."""

from __future__ import annotations

from typing import Any

from django import http
from django.contrib import admin

from api.models import AccessRecord
from episodes.admin import ReadOnlyAdmin


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    """Superusers only, read-only: the record of who read or changed which patient."""

    list_display = ("at", "username", "action", "method", "path", "status_code", "patient_id")
    list_filter = ("action", "status_code")
    search_fields = ("=patient_id", "=episode_id", "username")
    date_hierarchy = "at"

    def has_module_permission(self, request: http.HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: http.HttpRequest, obj: Any = None) -> bool:  # noqa: ANN401, ARG002
        return bool(request.user.is_active and request.user.is_superuser)
