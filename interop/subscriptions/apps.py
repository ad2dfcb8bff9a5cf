from __future__ import annotations

from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    """FHIR subscriptions: hears the clinical record's events and notifies subscribers."""

    name = "interop.subscriptions"
    label = "subscriptions"
    verbose_name = "FHIR subscriptions"

    def ready(self) -> None:
        # Imported once the app registry is ready (they import models).
        from episodes.signals import episode_changed, red_flag_raised  # noqa: PLC0415
        from interop.subscriptions import outbox, receivers, tasks  # noqa: PLC0415

        # In the writer's transaction: the event row is written with the change or not at
        # all (the outbox), and its delivery is asked for on commit.
        red_flag_raised.connect(
            receivers.on_red_flag_raised, dispatch_uid="subscriptions.on_red_flag_raised"
        )
        episode_changed.connect(
            receivers.on_episode_changed, dispatch_uid="subscriptions.on_episode_changed"
        )
        # The writes ask for deliveries through a hook: they never import the tasks.
        outbox.on_delivery_requested(tasks.enqueue_delivery)
