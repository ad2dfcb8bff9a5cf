from __future__ import annotations

from django.apps import AppConfig


class InteropConfig(AppConfig):
    """The HL7 FHIR facade under ``/fhir/``: the top layer, nothing imports it."""

    name = "interop"
    label = "interop"
    verbose_name = "FHIR facade"
