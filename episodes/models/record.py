"""What is recorded about an episode: assessments, red flags and reports, imaging, the plan."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from careflow.facts import BOOLEAN_FACTS
from careflow.redflags import CATEGORY_OF_SIGN, Sign
from episodes.models.episode import Episode


class Source(models.TextChoices):
    USER = "user"
    SYSTEM = "system"
    PATIENT = "patient"


class Assessment(models.Model):
    """One recording of some facts: append-only; the latest value of each is current."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="assessments")
    values = models.JSONField(help_text="The facts this assessment recorded.")
    note = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["recorded_at", "id"]
        indexes: ClassVar = [
            # Facts recorded since a moment (the FHIR facade's Observation?_lastUpdated, an
            # integrator's sync): at 100k, 59 ms reading every assessment without it.
            models.Index(fields=["recorded_at", "id"], name="assessment_recorded"),
        ]

    def __str__(self) -> str:
        return f"Assessment #{self.pk} of episode #{self.episode_id}"

    def clean(self) -> None:
        unknown = set(self.values) - set(BOOLEAN_FACTS)
        if unknown:
            raise ValidationError({"values": f"unknown facts: {sorted(unknown)}"})


class RedFlagStatus(models.TextChoices):
    ACTIVE = "active"
    RULED_OUT = "ruled_out"


class RedFlag(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="red_flags")
    sign = models.CharField(max_length=40, choices=[(s.value, s.value) for s in Sign])
    category = models.CharField(max_length=5)
    status = models.CharField(
        max_length=10, choices=RedFlagStatus.choices, default=RedFlagStatus.ACTIVE
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    note = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_on = models.DateField(help_text="The patient-local date it was raised.")
    ruled_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ruled_out_at = models.DateTimeField(null=True, blank=True)
    ruled_out_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["raised_at", "id"]
        indexes: ClassVar = [
            # Flags updated since a moment (FHIR's Flag?_lastUpdated, an integrator's sync):
            # raised then and still open, or ruled out then. Without them, a sync that finds
            # nothing new read every flag at 1M (72,730; 31 ms).
            models.Index(
                fields=["raised_at", "id"],
                condition=models.Q(ruled_out_at__isnull=True),
                name="redflag_open_raised",
            ),
            models.Index(
                fields=["ruled_out_at", "id"],
                condition=models.Q(ruled_out_at__isnull=False),
                name="redflag_ruled_out",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sign} ({self.category}, {self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.category = CATEGORY_OF_SIGN[Sign(self.sign)]
        super().save(*args, **kwargs)


class RedFlagReport(models.Model):
    """A red-flag symptom a patient reported on a check-in: never absorbed (PATHWAY.md).

    Every reported sign is kept, with the check-in's reminder. One that raised its flag is
    acted on as that flag. One whose flag was already active, or reported on a resolved or
    closed episode, alerts the care team again and puts the episode in the urgent queue
    until a clinician reviews it (``review_patient_report``): by an assessment recorded
    after it, or, on an ended episode, by reviewing it with a note.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="red_flag_reports")
    sign = models.CharField(max_length=40, choices=[(s.value, s.value) for s in Sign])
    category = models.CharField(max_length=5)
    # The flag it raised, or the active flag it reports again (none on an ended episode).
    red_flag = models.ForeignKey(
        RedFlag, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    raised_flag = models.BooleanField(help_text="It raised its flag: nothing to review.")
    # The check-in's reminder (notifications' row: episodes sits below it, so an id).
    reminder_id = models.BigIntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(auto_now_add=True)
    reported_on = models.DateField(help_text="The patient-local date it was reported.")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["reported_at", "id"]
        indexes: ClassVar = [
            models.Index(
                fields=["episode", "reported_at"],
                name="red_flag_report_unreviewed",
                condition=models.Q(raised_flag=False, reviewed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Red-flag report #{self.pk} ({self.category})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.category = CATEGORY_OF_SIGN[Sign(self.sign)]
        super().save(*args, **kwargs)

    @property
    def needs_review(self) -> bool:
        return not self.raised_flag and self.reviewed_at is None


class ImagingStudy(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="imaging")
    modality = models.CharField(max_length=40, default="mri_lumbar_without_contrast")
    performed_on = models.DateField()
    nerve_root_compression = models.BooleanField(default=False)
    level = models.CharField(max_length=20, blank=True)
    clinically_correlated = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["performed_on", "id"]
        verbose_name_plural = "imaging studies"

    def __str__(self) -> str:
        return f"{self.modality} on {self.performed_on}"


class CarePlanItem(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="care_plan")
    item = models.CharField(max_length=40)
    category = models.CharField(max_length=20)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    positive_medial_branch_block = models.BooleanField(default=False)
    flags = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.item} ({self.category})"
