"""Delivery channels behind one protocol (``base.DeliveryChannel``) and their registry.

``CAREFLOW_CHANNELS`` lists the channel classes by dotted path, the way
``CAREFLOW_SMS_BACKEND`` names the SMS sender; the first one listed is the default (the
care team's, and a patient's when their preferred channel cannot reach them). Adding a
channel is its module here, a value in ``episodes.models.Channel`` and the setting
(docs/ARCHITECTURE.md, "A new channel").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.channels.base import DeliveryChannel, PermanentSendError

if TYPE_CHECKING:
    from django.urls import URLPattern

    from episodes.models import Patient


def registered() -> dict[str, DeliveryChannel]:
    """The configured channels by name, in the setting's order."""
    return _load(tuple(settings.CAREFLOW_CHANNELS))


@functools.cache
def _load(paths: tuple[str, ...]) -> dict[str, DeliveryChannel]:
    channels: dict[str, DeliveryChannel] = {}
    for path in paths:
        channel = import_string(path)()
        channels[str(channel.name)] = channel
    return channels


def default_channel() -> DeliveryChannel:
    return next(iter(registered().values()))


def channel_for(name: str) -> DeliveryChannel:
    """The channel a reminder row names; a permanent error when it is not configured."""
    channel = registered().get(name)
    if channel is None:
        msg = f"channel {name!r} is not configured (CAREFLOW_CHANNELS)"
        raise PermanentSendError(msg)
    return channel


def patient_channel_for(patient: Patient) -> DeliveryChannel:
    """The patient's preferred channel when it can reach them, else the default one."""
    preferred = registered().get(patient.preferred_channel)
    if preferred is not None and preferred.address(patient) and not preferred.why_not(patient):
        return preferred
    return default_channel()


@dataclass(frozen=True, slots=True)
class Reach:
    """How reminders reach a patient now: ``channel`` (None: nothing reaches them)."""

    channel: str | None
    preferred: bool  # the preferred channel reaches them (SMS: a phone and consent)


def patient_reach(patient: Patient) -> Reach:
    """Whether the preferred channel reaches the patient, and what their reminders go by.

    With SMS consent withdrawn (STOP) the preferred channel stays SMS and reminders go by
    the default (email); with no email address either, nothing reaches the patient: their
    reminders fail into ``delivery_failures`` and the care team is told.
    """
    preferred = registered().get(patient.preferred_channel)
    if preferred is not None and preferred.address(patient) and not preferred.why_not(patient):
        return Reach(channel=str(preferred.name), preferred=True)
    default = default_channel()
    if default.address(patient) and not default.why_not(patient):
        return Reach(channel=str(default.name), preferred=False)
    return Reach(channel=None, preferred=False)


def webhook_urls() -> list[URLPattern]:
    """Every configured channel's provider callbacks (config/urls.py includes them)."""
    return [url for channel in registered().values() for url in channel.webhooks()]
