from __future__ import annotations

from django.apps import AppConfig


class CareflowConfig(AppConfig):
    """The pathway rules as pure functions; an app only so that it has a logger and a label."""

    name = "careflow"
    label = "careflow"
    verbose_name = "Careflow pathway rules"
