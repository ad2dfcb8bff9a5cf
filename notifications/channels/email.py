"""Email through Django's email backends (SMTP configured by environment in production).

The reminder's id travels as the Message-ID, so a message re-sent after a crash in flight
is the same message to every mail system that looks (threading, duplicate suppression).
"""

from __future__ import annotations

import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from notifications.channels.base import PermanentSendError, TransientSendError

_PERMANENT_SMTP_CODES = range(500, 600)


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
    try:
        get_connection(fail_silently=False).send_messages([message])
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
    return message_id
