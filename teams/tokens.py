"""An invitation's link: its id and nonce, signed (Django's signing framework).

https://docs.djangoproject.com/en/5.2/topics/signing/
The signature needs the secret key, so neither a reader of the database nor a guesser can
make a link; whether it still works (not used, not ended, not expired) is the row's to say
(``teams.services.invitation_for_token``).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from teams.models import Invitation

SALT = "careflow.teams.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=SALT)


def invitation_url(invitation: Invitation) -> str:
    path = reverse("workspace:invitation", args=[invitation_token(invitation)])
    return settings.CAREFLOW_PUBLIC_BASE_URL.rstrip("/") + path


def invitation_named(token: str) -> tuple[int, str] | None:
    """(invitation id, nonce) a token names, or None for a tampered or foreign one."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    pk, nonce = data.get("i"), data.get("n")
    if not isinstance(pk, int) or not isinstance(nonce, str) or not 0 < pk < 2**63:
        return None
    return pk, nonce
