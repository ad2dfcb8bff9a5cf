"""Email through Django's email backends: SMTP by default, or an ESP through Anymail.

The reminder's id travels as the Message-ID (and, through Anymail, as the message's
``metadata``), so a message re-sent after a crash in flight is recognisably the same
message. Through Anymail (Postmark) the ESP's own message id is returned and recorded: its
tracking webhooks name it (notifications/providers/webhooks.py). An address the ESP
reported a hard bounce or complaint for is not written to again
(notifications/delivery/attempts.py: a permanent error, the care team sees it in
``delivery_failures``).
https://anymail.dev/en/stable/sending/anymail_additions/#anymail.message.AnymailStatus
"""

from __future__ import annotations

import smtplib
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import path
from django.utils.dateparse import parse_datetime

from episodes.models import Channel
from notifications.channels.base import (
    Message,
    PermanentSendError,
    TransientSendError,
    render_text,
)
from notifications.models import UnusableEmail
from notifications.providers import webhooks

if TYPE_CHECKING:
    from django.urls import URLPattern

    from notifications.channels.base import Contact

_PERMANENT_SMTP_CODES = range(500, 600)
_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500


def message_id_for(idempotency_key: str) -> str:
    """``<reminder-5@careflow.example.org>``: stable for a reminder, unique per site."""
    domain = urlsplit(settings.CAREFLOW_PUBLIC_BASE_URL).hostname or "careflow"
    return f"<{idempotency_key}@{domain}>"


def send_email(*, to: str, subject: str, body: str, idempotency_key: str) -> str:
    """Send one message; returns its Message-ID (our provider message id for email)."""
    if not to:
        msg = "no email address"
        raise PermanentSendError(msg)
    message_id = message_id_for(idempotency_key)
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id},
    )
    # Anymail sends it to the ESP as metadata, and the ESP's webhooks carry it back.
    message.metadata = {"reminder": idempotency_key}
    try:
        get_connection(fail_silently=False).send_messages([message])
    except AnymailRecipientsRefused as exc:
        msg = "the ESP refused the recipient (inactive or invalid)"
        raise PermanentSendError(msg) from exc
    except AnymailAPIError as exc:
        status = getattr(exc, "status_code", None)
        msg = f"ESP error (HTTP {status or '-'})"
        if status is None or status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR:
            raise TransientSendError(msg) from exc
        raise PermanentSendError(msg) from exc
    except AnymailError as exc:
        msg = f"ESP error: {type(exc).__name__}"
        raise PermanentSendError(msg) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        kind = PermanentSendError if all(c in _PERMANENT_SMTP_CODES for c in codes) else None
        msg = f"SMTP recipient refused ({', '.join(str(c) for c in codes)})"
        raise (kind or TransientSendError)(msg) from exc
    except smtplib.SMTPResponseException as exc:
        kind = PermanentSendError if exc.smtp_code in _PERMANENT_SMTP_CODES else TransientSendError
        msg = f"SMTP {exc.smtp_code}"
        raise kind(msg) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Disconnects, timeouts, refused connections: the server may come back.
        msg = f"SMTP unavailable: {type(exc).__name__}"
        raise TransientSendError(msg) from exc
    return _provider_message_id(message, message_id)


def _provider_message_id(message: EmailMessage, message_id: str) -> str:
    """The ESP's id through Anymail; our Message-ID over SMTP (the only id there is)."""
    status = getattr(message, "anymail_status", None)
    if status is None:
        return message_id
    if not (status.status or set()) & {"sent", "queued"}:
        # Anymail reports what the ESP said per recipient; anything else was not sent.
        msg = f"the ESP did not accept it ({', '.join(sorted(status.status or [])) or '-'})"
        raise PermanentSendError(msg)
    return str(status.message_id or message_id)


POSTMARK_BACKEND = "anymail.backends.postmark.EmailBackend"
# Postmark's search pages: at most 500 a page, count + offset at most 10,000.
_SEARCH_PAGE = 100
_SEARCH_LIMIT = 10_000


def find_sent_email(*, to: str, since: datetime, idempotency_key: str) -> str | None:
    """Postmark's MessageID of an email it took for this reminder since ``since``; or None.

    Postmark's outbound message search (``GET /messages/outbound?recipient=&count=&offset=``,
    newest first: https://postmarkapp.com/developer/api/messages-api#outbound-message-search)
    read back to ``since`` less a minute, matched on the ``Metadata`` the send carried (the
    reminder's key). Over SMTP there is nobody to ask: None. Raises TransientSendError when
    Postmark cannot be asked, so nothing is re-sent on a guess.
    """
    if settings.EMAIL_BACKEND != POSTMARK_BACKEND or not to:
        return None
    url = settings.ANYMAIL.get("POSTMARK_API_URL", "").rstrip("/") + "/messages/outbound"
    headers = {
        "Accept": "application/json",
        "X-Postmark-Server-Token": settings.ANYMAIL.get("POSTMARK_SERVER_TOKEN", ""),
    }
    floor = since - timedelta(minutes=1)
    for offset in range(0, _SEARCH_LIMIT, _SEARCH_PAGE):
        params = {"recipient": to, "count": _SEARCH_PAGE, "offset": offset}
        try:
            response = requests.get(
                url, params=params, headers=headers, timeout=settings.EMAIL_TIMEOUT
            )
            response.raise_for_status()
            messages = response.json().get("Messages") or []
        except (requests.RequestException, ValueError, AttributeError) as exc:
            msg = f"Postmark search unavailable: {type(exc).__name__}"
            raise TransientSendError(msg) from exc
        for message in messages:
            if (message.get("Metadata") or {}).get("reminder") == idempotency_key:
                return str(message.get("MessageID") or "") or None
        received = [parse_datetime(str(m.get("ReceivedAt") or "")) for m in messages]
        if len(messages) < _SEARCH_PAGE or any(r is not None and r < floor for r in received):
            return None
    return None


class EmailChannel:
    """Email (``DeliveryChannel``): SMTP or an ESP through Anymail, as ``EMAIL_BACKEND`` says."""

    name = Channel.EMAIL
    no_address = "no email address"

    def chunk_size(self) -> int:
        """Postmark can be asked after a crash; over SMTP a crash may re-send the chunk."""
        if settings.EMAIL_BACKEND == POSTMARK_BACKEND:
            return settings.CAREFLOW_REMINDER_CHUNK_EMAIL
        return settings.CAREFLOW_REMINDER_CHUNK_SMTP

    def address(self, patient: Contact) -> str:
        return patient.email

    def why_not(self, patient: Contact) -> str:  # noqa: ARG002 - email needs no consent of its own
        return ""

    def render(self, *, to: str, template: str, context: dict[str, object]) -> Message:
        return Message(
            to=to,
            subject=render_text(f"{template}_subject.txt", context),
            body=render_text(f"{template}_email.txt", context),
        )

    def refused(self, addresses: Collection[str]) -> dict[str, str]:
        """Addresses the ESP reported a hard bounce or complaint for (one query)."""
        lowered = {address.lower(): address for address in addresses if address}
        if not lowered:
            return {}
        unusable = UnusableEmail.objects.filter(address__in=lowered).values_list(
            "address", flat=True
        )
        reason = "the address hard-bounced or complained earlier: not written to again"
        return {lowered[address]: reason for address in unusable}

    def send(self, message: Message, *, idempotency_key: str) -> str:
        return send_email(
            to=message.to,
            subject=message.subject,
            body=message.body,
            idempotency_key=idempotency_key,
        )

    def reconcile(self, *, to: str, since: datetime, idempotency_key: str) -> str | None:
        return find_sent_email(to=to, since=since, idempotency_key=idempotency_key)

    def webhooks(self) -> list[URLPattern]:
        return [
            path(
                "webhooks/email/postmark/tracking/",
                webhooks.postmark_tracking,
                name="postmark-tracking",
            )
        ]
