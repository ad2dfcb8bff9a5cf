from __future__ import annotations

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Care teams run by their leads"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out  # noqa: PLC0415

        from teams import receivers  # noqa: PLC0415 - the app registry must be ready

        user_logged_in.connect(receivers.on_logged_in, dispatch_uid="teams.on_logged_in")
        user_logged_out.connect(receivers.on_logged_out, dispatch_uid="teams.on_logged_out")
