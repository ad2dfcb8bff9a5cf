"""A subscription, its events (the outbox and the record of each delivery), Tasks notified."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Status(models.TextChoices):
    """FHIR's subscription-status: https://hl7.org/fhir/R4B/valueset-subscription-status.html."""

    REQUESTED = "requested"  # made; its handshake has not reached the endpoint yet
    ACTIVE = "active"
    ERROR = "error"  # the last notifications failed; still retried, at most hourly
    OFF = "off"  # deleted by its client, or past its end: nothing more is sent


class Content(models.TextChoices):
    """How much of each focus a notification carries (backport-payload-content)."""

    EMPTY = "empty"
    ID_ONLY = "id-only"
    FULL_RESOURCE = "full-resource"


class Subscription(models.Model):
    """A client's request to be told of one topic's events in its care teams.

    ``team_ids`` are the owner's care teams when it subscribed; an event is recorded only
    for a subscription naming its team, and sent only while the owner is still a member.
    ``event_count`` numbers the events (``eventsSinceSubscriptionStart``): the outbox
    statement raises it and writes the events in one, holding the row until the write
    commits, so numbers follow commit order and a reader never meets a gap that fills later.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team_ids = ArrayField(models.BigIntegerField())
    topic = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.TextField()
    endpoint = models.URLField(max_length=2048)
    headers = models.JSONField(default=list, blank=True)  # channel.header: "Name: value"
    content = models.CharField(max_length=16, choices=Content.choices, default=Content.ID_ONLY)
    heartbeat_seconds = models.PositiveIntegerField(null=True, blank=True)
    timeout_seconds = models.PositiveIntegerField()
    ends_at = models.DateTimeField(null=True, blank=True)  # Subscription.end
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    event_count = models.BigIntegerField(default=0)
    handshake_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row; a success clears them
    retry_at = models.DateTimeField(null=True, blank=True)  # no delivery before then
    error = models.TextField(blank=True)  # the last failure, in words
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is delivering

    class Meta:
        indexes: ClassVar = [
            # The outbox statement: a team's live subscriptions to a topic.
            GinIndex(
                fields=["team_ids"],
                name="subscription_live_teams",
                condition=~models.Q(status="off"),
            ),
        ]

    def __str__(self) -> str:
        return f"Subscription {self.pk} ({self.topic})"


class EventStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the endpoint refused it (a 4xx other than 408 / 429): not sent again
    SKIPPED = "skipped"  # not for this subscriber any more (no longer in the event's team)


class SubscriptionEvent(models.Model):
    """One event of a subscription: written with the change, then the record of its delivery.

    Only ids: the focus (``Flag/12``, ``Task/34-urgent-imaging``), the team and episode it
    is about. What a notification carries is read when it is sent, after the subscriber's
    access is checked again.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    number = models.BigIntegerField()
    focus = models.CharField(max_length=120)
    team_id = models.BigIntegerField()
    episode_id = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["subscription", "number"], name="event_number_once"),
        ]
        indexes: ClassVar = [
            # The next event to send: a subscription's pending rows in number order.
            models.Index(
                fields=["subscription", "number"],
                name="event_pending",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Event {self.number} of subscription {self.subscription_id}"


class EpisodeTasks(models.Model):
    """An episode's Tasks as last seen by the Task topic: their ids and what each said.

    Careflow computes Tasks (next actions) and keeps no rows of them; comparing with this
    tells which ones a write changed. Kept only for episodes of teams with a Task
    subscription: the first write it sees reports every open Task of the episode.
    """

    episode_id = models.BigIntegerField(primary_key=True)
    tasks = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Tasks of episode {self.episode_id}"
