"""What every channel is and raises: the protocol dispatch talks to, and its errors.

A channel (email, SMS; WhatsApp or an app push tomorrow) is one class listed by dotted path
in ``CAREFLOW_CHANNELS`` (notifications/channels/__init__.py is the registry). Dispatch,
batch delivery, reconciliation, the choice of a patient's channel and the provider
webhooks ask the registry; none of them names a channel.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.template.loader import render_to_string

if TYPE_CHECKING:
    from django.urls import URLPattern

_BLANK_LINES = re.compile(r"\n{3,}")


class SendError(Exception):
    """A send that did not go through; the message never carries patient details."""


class TransientSendError(SendError):
    """Worth retrying later: timeouts, connection failures, 5xx, rate limits (429)."""


class PermanentSendError(SendError):
    """Retrying cannot help: the provider refused the message or the address (4xx)."""


@dataclass(frozen=True, slots=True)
class Message:
    to: str
    subject: str
    body: str


def render_text(name: str, context: dict[str, object]) -> str:
    """One template of ``notifications/templates/notifications/``, blank runs squeezed."""
    text = render_to_string(f"notifications/{name}", context).strip()
    return _BLANK_LINES.sub("\n\n", text)


class Contact(Protocol):
    """What a channel reads of a patient: a Patient, or a batch's plain row of one.

    (``notifications/delivery/rows.py``: a batch's delivery builds no Patient.)
    """

    @property
    def email(self) -> str: ...

    @property
    def phone(self) -> str: ...

    @property
    def sms_consent(self) -> bool: ...


class DeliveryChannel(Protocol):
    """One way of reaching someone. ``name`` is a value of ``episodes.models.Channel``."""

    name: str
    # What a missing address is called in the attempt's error ("no phone number").
    no_address: str

    def chunk_size(self) -> int:
        """Rows begun, sent and finished together: what a crash can leave in doubt."""
        ...

    def address(self, patient: Contact) -> str:
        """The patient's address on this channel; empty when there is none."""
        ...

    def why_not(self, patient: Contact) -> str:
        """Why the patient may not be written to on this channel (consent); empty if they may."""
        ...

    def render(self, *, to: str, template: str, context: dict[str, object]) -> Message:
        """The message from the templates named ``<template>_<part>.txt`` this channel uses."""
        ...

    def refused(self, addresses: Collection[str]) -> dict[str, str]:
        """Of ``addresses``, those not to be written to again, each with the reason."""
        ...

    def send(self, message: Message, *, idempotency_key: str) -> str:
        """Hand the message to the provider; its message id. Raises a ``SendError``."""
        ...

    def reconcile(self, *, to: str, since: datetime, idempotency_key: str) -> str | None:
        """The provider's id of a message it already took for this key since ``since``.

        None when it has none (or cannot be asked at all: then a re-send may duplicate);
        raises TransientSendError when it cannot be asked now: never re-send on a guess.
        """
        ...

    def webhooks(self) -> list[URLPattern]:
        """The provider's callbacks (status, inbound messages, tracking events)."""
        ...
