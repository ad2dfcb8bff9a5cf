from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Imported once the app registry is ready (they import models).
        from episodes.signals import (  # noqa: PLC0415
            episode_changed,
            red_flag_raised,
            red_flag_reported,
        )
        from notifications import receivers, selectors, services, tasks  # noqa: PLC0415
        from notifications.providers import (  # noqa: PLC0415
            webhooks,  # noqa: F401 - connects the ESP tracking-event receiver (Anymail's signal)
        )

        # The clinical record's events: reminders follow the episode in its transaction.
        episode_changed.connect(
            receivers.on_episode_changed, dispatch_uid="notifications.on_episode_changed"
        )
        red_flag_raised.connect(
            receivers.on_red_flag_raised, dispatch_uid="notifications.on_red_flag_raised"
        )
        red_flag_reported.connect(
            receivers.on_red_flag_reported, dispatch_uid="notifications.on_red_flag_reported"
        )
        # A red-flag alert asks for a dispatch on commit: the tasks publish it.
        services.on_dispatch_requested("notifications.tasks", tasks.enqueue_dispatch)
        # What the clinical record shows of ours: the delivery_failures queue, the timeline.
        selectors.register()
