from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_save


class EpisodesConfig(AppConfig):
    name = "episodes"
    label = "episodes"
    verbose_name = "Episodes"

    def ready(self) -> None:
        from episodes.tokens import revoke_tokens_on_user_change  # noqa: PLC0415 - apps ready

        pre_save.connect(
            revoke_tokens_on_user_change,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="episodes.revoke_tokens_on_user_change",
        )
