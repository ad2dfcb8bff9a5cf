from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_save


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from api.tokens import revoke_tokens_on_user_change  # noqa: PLC0415 - apps ready

        pre_save.connect(
            revoke_tokens_on_user_change,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="api.revoke_tokens_on_user_change",
        )
