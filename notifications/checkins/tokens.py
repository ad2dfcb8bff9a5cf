"""Signed, expiring check-in tokens naming one reminder (Django's signing framework).

https://docs.djangoproject.com/en/5.2/topics/signing/
The token carries the reminder's id and the time it was signed, nothing about the patient;
the check-in page (another issue) turns it back into a reminder or refuses it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing

if TYPE_CHECKING:
    from notifications.models import Reminder

SALT = "careflow.notifications.checkin"


def checkin_token_for(reminder: Reminder) -> str:
    return signing.dumps({"reminder": reminder.pk}, salt=SALT)


def checkin_url_for(reminder: Reminder) -> str:
    base = settings.CAREFLOW_PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/check-in/{checkin_token_for(reminder)}/"


def default_max_age() -> timedelta:
    return timedelta(days=settings.CAREFLOW_CHECKIN_TOKEN_MAX_AGE_DAYS)


def reminder_id_from_token(token: str, max_age: timedelta | None = None) -> int:
    """The reminder id the token names.

    Raises ``signing.SignatureExpired`` for a token older than ``max_age`` (default
    ``CAREFLOW_CHECKIN_TOKEN_MAX_AGE_DAYS``) and ``signing.BadSignature`` (its base class)
    for a token that was tampered with or signed for something else.
    """
    data = signing.loads(token, salt=SALT, max_age=max_age or default_max_age())
    if not isinstance(data, dict) or not isinstance(data.get("reminder"), int):
        msg = "The token does not name a reminder."
        raise signing.BadSignature(msg)
    return data["reminder"]
