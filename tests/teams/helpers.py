"""What the team tests share: the invitation link as it was emailed."""

from __future__ import annotations

import re

from django.core import mail

LINK = re.compile(r"https?://\S+/invitations/(?P<token>[^/\s]+)/")


def emailed_token(to: str) -> str:
    """The token in the newest email to ``to`` (the locmem backend's outbox)."""
    for message in reversed(mail.outbox):
        if to in message.to:
            return LINK.search(message.body)["token"]
    msg = f"no email to {to}"
    raise AssertionError(msg)
