"""Append-only history: the transition log and corrections of dates."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from episodes.models.episode import Episode
from episodes.models.people import Patient
from episodes.models.record import Source


class AppendOnlyError(Exception):
    """An audit row was asked to change; they are written once."""


class AppendOnly:
    """An audit row: written once, never changed or deleted (not even through the ORM)."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:  # type: ignore[attr-defined]
            msg = f"{type(self).__name__} rows are append-only"
            raise AppendOnlyError(msg)
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401, ARG002 - Django's signature
        msg = f"{type(self).__name__} rows are append-only"
        raise AppendOnlyError(msg)


class TransitionLog(AppendOnly, models.Model):
    """Append-only: who moved the episode, when, why, and on which facts."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="transitions")
    transition = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30)
    to_state = models.CharField(max_length=30)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    at = models.DateTimeField(auto_now_add=True)
    body = models.JSONField(default=dict, blank=True)
    facts_snapshot = models.JSONField()
    evaluated_on = models.DateField()
    pathway_version = models.CharField(max_length=20)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.transition}: {self.from_state} -> {self.to_state}"


class CorrectedField(models.TextChoices):
    SYMPTOM_ONSET = "symptom_onset"
    CONSERVATIVE_CARE_START = "conservative_care_start"
    BIRTH_DATE = "birth_date"


class Correction(AppendOnly, models.Model):
    """A corrected date (PATHWAY.md "Facts change over time"): old and new, who and why.

    A birth date belongs to the patient (``episode`` is null) and shows on the timeline of
    each of the patient's episodes. Append-only, like the transition log.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="corrections")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.CASCADE, related_name="corrections"
    )
    field = models.CharField(max_length=30, choices=CorrectedField.choices)
    old_value = models.DateField()
    new_value = models.DateField()
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.field} corrected ({self.old_value} -> {self.new_value})"
