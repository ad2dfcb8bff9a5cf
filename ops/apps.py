from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops import celery_hooks  # noqa: PLC0415 - connects Celery's signals once apps are ready

        celery_hooks.connect()
