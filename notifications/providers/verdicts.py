"""A provider's verdict that the patient did not get a message, as stored on the attempt.

The provider's webhook (Twilio's status callback, the ESP's tracking event) stores its
status on the attempt it is about. It may come before the worker has recorded that
attempt as finished, while the reminder is still ``sending``: the finish reads the stored
verdict back and fails the reminder itself (``delivery.batch``'s finish,
``delivery.attempts.fail_on_verdict``); a verdict after the finish fails the ``sent`` reminder
at once (``providers.events``). Either order ends ``failed``, with the same reason.
"""

from __future__ import annotations

from typing import Final

from notifications.models import ReminderChannel

# Twilio's two final failures, undelivered and failed
# (https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks);
# for email, a hard bounce or a rejection (stored as bounced) and a spam complaint.
FAILED_STATUSES: Final = frozenset({"undelivered", "failed", "bounced", "complained"})


def failure_reason(channel: str, status: str, code: str) -> str:
    """The reminder's ``status_reason``: the verdict and the provider's code for it."""
    if channel == ReminderChannel.SMS:
        return f"{status} (Twilio error {code or '-'})"
    return f"{status} (ESP reason: {code or '-'})"
