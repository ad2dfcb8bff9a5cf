"""The schedule of record: one Reminder row per (episode, milestone, audience).

Broker messages only carry reminder IDs to wake workers; what is due, what was sent and
what failed lives here, so losing Redis or beat only delays reminders.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from episodes.models import Episode


class Audience(models.TextChoices):
    PATIENT = "patient"
    CARE_TEAM = "care_team"


class ReminderChannel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"


class ReminderStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


# Milestones beyond the pathway's three: an alert to the care team for each red flag.
RED_FLAG_MILESTONE_PREFIX = "red_flag:"


class Reminder(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="reminders")
    milestone = models.CharField(max_length=40)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    channel = models.CharField(max_length=5, choices=ReminderChannel.choices)
    milestone_date = models.DateField()
    due_at = models.DateTimeField(help_text="When it may go out (quiet hours already applied).")
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    status_reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["episode", "milestone", "audience"], name="one_reminder_per_milestone"
            )
        ]
        indexes: ClassVar = [
            # The dispatcher's scan: its cost grows with the due rows, not the episodes.
            models.Index(
                fields=["due_at", "id"],
                name="reminder_due_scheduled",
                condition=models.Q(status="scheduled"),
            ),
            models.Index(
                fields=["lease_expires_at", "id"],
                name="reminder_sending_lease",
                condition=models.Q(status="sending"),
            ),
            models.Index(
                fields=["episode", "id"],
                name="reminder_delivery_problem",
                condition=models.Q(status__in=["failed", "skipped"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder #{self.pk} {self.milestone}/{self.audience} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a reminder: for the timeline and the on-call engineer."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20)  # sent, transient_error, permanent_error, ...
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"Attempt {self.attempt} of reminder #{self.reminder_id}: {self.outcome}"
