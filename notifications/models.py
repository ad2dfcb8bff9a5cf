"""The schedule of record: one Reminder row per (episode, milestone, audience).

Broker messages only carry reminder IDs to wake workers; what is due, what was sent and
what failed lives here, so losing Redis or beat only delays reminders.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from careflow.checkin import Overall
from episodes.models import CHANNEL_MAX_LENGTH, Channel, Episode


class Audience(models.TextChoices):
    PATIENT = "patient"
    CARE_TEAM = "care_team"


# The one channel enumeration is the clinical record's (a patient's preferred channel);
# this name stays for the code that reads it as the reminder's channel.
ReminderChannel = Channel


class ReminderStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


# Milestones beyond the pathway's three: an alert to the care team for each red flag
# (``red_flag:<flag id>``) and for each red-flag report that raised no new flag
# (``red_flag:report:<report id>``). Every row with the prefix is a care-team alert.
RED_FLAG_MILESTONE_PREFIX = "red_flag:"
RED_FLAG_REPORT_MILESTONE_PREFIX = f"{RED_FLAG_MILESTONE_PREFIX}report:"
# What makes a reminder an alert, once: its milestone's prefix. ``Reminder.alert`` is this,
# computed by the database on every write, whichever code writes the row; ``is_alert`` is
# the same test on a milestone in hand.
IS_ALERT = models.Q(milestone__startswith=RED_FLAG_MILESTONE_PREFIX)


def is_alert(milestone: str) -> bool:
    """Whether a reminder of this milestone is an alert to the care team (``IS_ALERT``)."""
    return milestone.startswith(RED_FLAG_MILESTONE_PREFIX)


class Reminder(models.Model):
    # No index of its own: ``one_reminder_per_milestone`` (episode, milestone, audience)
    # serves every lookup by episode, and each index is written on every status change
    # (one index fewer to maintain on the claim and the finish).
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    milestone = models.CharField(max_length=40)
    # Alerts are claimed before any routine reminder (docs/REMINDERS.md): a column, so the
    # claim reads them through an index of their own (``reminder_alert_due``).
    alert = models.GeneratedField(
        expression=models.ExpressionWrapper(IS_ALERT, output_field=models.BooleanField()),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    audience = models.CharField(max_length=10, choices=Audience.choices)
    channel = models.CharField(max_length=CHANNEL_MAX_LENGTH, choices=ReminderChannel.choices)
    milestone_date = models.DateField()
    due_at = models.DateTimeField(
        help_text="When it is due: 09:00 patient local time on the milestone date (quiet hours"
        " applied). Staleness (more than 7 days late) counts from here."
    )
    next_attempt_at = models.DateTimeField(
        help_text="When the dispatcher next considers it: due_at, or later after a quiet-hours"
        " deferral or a retry backoff."
    )
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # The claim: which dispatcher batch holds a `sending` row, and until when. A worker acts
    # on a row only while both still match what its task message carries.
    claim_token = models.CharField(max_length=32, blank=True)
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
                fields=["next_attempt_at", "id"],
                name="reminder_due_scheduled",
                condition=models.Q(status="scheduled"),
            ),
            # The alerts due, for the claim's first pick: a handful of entries at most.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="reminder_alert_due",
                condition=models.Q(status="scheduled", alert=True),
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


class AttemptOutcome(models.TextChoices):
    # Written before the provider is called, so a worker killed mid-send leaves a trace.
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    TRANSIENT_ERROR = "transient_error"
    PERMANENT_ERROR = "permanent_error"
    # Reclaimed after its lease: the provider may or may not have accepted it.
    INTERRUPTED = "interrupted"
    # Not sent: the provider already had this reminder's message from an interrupted attempt.
    RECONCILED = "reconciled"


class DeliveryAttempt(models.Model):
    """One try at sending a reminder: for the timeline and the on-call engineer."""

    # No index of its own: ``one_row_per_attempt`` (reminder, attempt) serves lookups by
    # reminder (one index fewer written per attempt).
    reminder = models.ForeignKey(
        Reminder, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=CHANNEL_MAX_LENGTH, choices=ReminderChannel.choices)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    # What the provider said happened next (Twilio status callbacks, the ESP's tracking
    # webhooks): queued, sent, delivered, undelivered, failed, bounced, complained.
    provider_status = models.CharField(max_length=20, blank=True)
    provider_error_code = models.CharField(max_length=40, blank=True)
    provider_status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["reminder", "attempt"], name="one_row_per_attempt")
        ]

    def __str__(self) -> str:
        return f"Attempt {self.attempt} of reminder #{self.reminder_id}: {self.outcome}"


class WebhookReceipt(models.Model):
    """A provider's webhook delivery already handled: its retries are dropped.

    Twilio repeats ``I-Twilio-Idempotency-Token`` on a retry of the same webhook
    (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides); the ESP's
    event id plays the same part for email.
    """

    provider = models.CharField(max_length=20)
    token = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["provider", "token"], name="one_receipt_per_token")
        ]

    def __str__(self) -> str:
        return f"{self.provider} webhook {self.token}"


class PatientMessageKind(models.TextChoices):
    OPT_OUT = "opt_out"  # STOP and the words Twilio treats alike: SMS consent withdrawn
    OPT_IN = "opt_in"  # START, UNSTOP: SMS consent restored
    HELP = "help"  # HELP, INFO: Twilio answers them itself; nothing for the care team to do
    REPLY = "reply"  # anything else: for the care team to read


class PatientMessage(models.Model):
    """An SMS a patient sent us, on the timeline of each episode it was matched to.

    A reply waits unread (the ``unread_replies`` queue) until a user of the episode's care
    team marks it read (``read_at``, ``read_by``). A message matched to no patient
    (``episode`` empty: several care teams share the number and no reminder went to it)
    is kept for operations in the admin and shown to no care team.
    """

    episode = models.ForeignKey(
        Episode,
        on_delete=models.CASCADE,
        related_name="patient_messages",
        null=True,
        blank=True,
    )
    provider_message_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=PatientMessageKind.choices)
    body = models.TextField(blank=True)
    # The number it came from (E.164), so an operator can follow up one matched to nobody.
    from_number = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering: ClassVar = ["received_at", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["episode", "provider_message_id"], name="one_patient_message_per_episode"
            ),
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=models.Q(episode__isnull=True),
                name="one_unmatched_patient_message",
            ),
        ]
        indexes: ClassVar = [
            # An episode's unread replies, oldest first: the queue row's reply and, after a
            # reply is read, the episode's next oldest (``Episode.unread_reply_since``).
            models.Index(
                fields=["episode", "received_at", "id"],
                name="patient_message_unread",
                condition=models.Q(kind=PatientMessageKind.REPLY, read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Patient message #{self.pk} ({self.kind})"


class UnusableEmail(models.Model):
    """An address the ESP reported a hard bounce or complaint for: no more mail to it."""

    address = models.EmailField(unique=True)
    reason = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Unusable email #{self.pk}"


class CheckIn(models.Model):
    """A patient's answers to one reminder's check-in; correctable until the link expires.

    notifications owns it (the check-in page answers a reminder); its table keeps the name
    it had in episodes (``episodes_checkin``): the model moved, not the rows.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="checkins")
    reminder = models.OneToOneField(Reminder, on_delete=models.CASCADE, related_name="checkin")
    overall = models.CharField(max_length=10, choices=[(o.value, o.value) for o in Overall])
    disabling_pain = models.BooleanField()
    symptoms = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    corrected_at = models.DateTimeField(null=True, blank=True)
    corrections = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "episodes_checkin"
        ordering: ClassVar = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"Check-in #{self.pk} of episode #{self.episode_id}: {self.overall}"
