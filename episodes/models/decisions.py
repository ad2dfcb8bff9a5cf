"""What the transitions record: ESI plan, referral and its deadline, surgery plan, closure."""

from __future__ import annotations

from django.db import models

from episodes.models.episode import Episode


class EsiPlan(models.Model):
    """What `schedule_esi` records (ESI-1, ESI-2)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="esi_plans")
    guidance = models.CharField(max_length=20)
    approach = models.CharField(max_length=20)
    patient_consented = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ESI ({self.guidance}, {self.approach})"


class Urgency(models.TextChoices):
    IMMEDIATE = "immediate"
    WITHIN_2_WEEKS = "within_2_weeks"
    ROUTINE = "routine"


class Referral(models.Model):
    """What `refer_to_specialist` records, and whether it met the REF deadline."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="referrals")
    urgency = models.CharField(max_length=20, choices=Urgency.choices)
    reason = models.TextField(blank=True)
    made_on = models.DateField()
    due_on = models.DateField(null=True, blank=True)
    due_rule = models.CharField(max_length=10, blank=True)
    due_date_met = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Referral ({self.urgency}) on {self.made_on}"


class SurgeryPlan(models.Model):
    """What `plan_surgery` records (SX-4, SX-5)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="surgery_plans")
    procedure = models.CharField(max_length=20)
    technique = models.CharField(max_length=20, blank=True)
    # One code, or several joined by commas (SX-5: a reoperation names its qualifier too).
    fusion_indication = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.procedure} ({self.technique or self.fusion_indication})"


class ClosureReason(models.TextChoices):
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    DECEASED = "deceased"
    OTHER = "other"


class Closure(models.Model):
    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="closure")
    reason = models.CharField(max_length=20, choices=ClosureReason.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Closed: {self.reason}"
