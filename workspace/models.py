"""Outreach notes: what a coordinator did to reach a patient (call made, no answer, ...).

They are the workspace's own record: they change no fact, deadline or state (a phone call
is not a reassessment), so they live beside the episode rather than in its facts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from episodes.models import Episode


class OutreachKind(models.TextChoices):
    CALL_MADE = "call_made", _("Call made, spoke to the patient")
    NO_ANSWER = "no_answer", _("Called, no answer")
    MESSAGE_LEFT = "message_left", _("Message left")
    LETTER_SENT = "letter_sent", _("Letter sent")
    OTHER = "other", _("Other")


class OutreachNote(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="outreach_notes")
    kind = models.CharField(max_length=20, choices=OutreachKind.choices)
    note = models.TextField(blank=True, max_length=2000)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outreach_notes"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = (models.Index(fields=["episode", "at", "id"], name="outreach_by_episode"),)

    def __str__(self) -> str:
        return f"{self.kind} on episode {self.episode_id}"
