from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Connects the ESP tracking-event receiver (Anymail's signal).
        from notifications import webhooks  # noqa: F401, PLC0415
