from __future__ import annotations

from django.apps import AppConfig


class InteropConfig(AppConfig):
    """The HL7 FHIR facade under ``/fhir/``: the top layer, nothing imports it."""

    name = "interop"
    label = "interop"
    verbose_name = "FHIR facade"

    def ready(self) -> None:
        # A write that changes a Patient or an EpisodeOfCare records its next version in
        # the write's transaction (interop.history); episodes never imports interop.
        from episodes.signals import episode_changed, patient_changed  # noqa: PLC0415
        from interop import history  # noqa: PLC0415

        episode_changed.connect(history.on_episode_changed, dispatch_uid="interop.history.episode")
        patient_changed.connect(history.on_patient_changed, dispatch_uid="interop.history.patient")
