"""OAuth 2 clients of the FHIR facade: a system (an EHR) with client credentials.

Each client is a django-oauth-toolkit Application of the client-credentials grant, with a
service user of its own that is a member of one care team: its tokens see that team's
patients and nothing else, through the same scoping as a person's (the service user has no
password and cannot sign in).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from django.contrib.auth import get_user_model
from django.db import transaction
from oauth2_provider.models import Application

from episodes.models import CareTeam, CareTeamMembership, Role

READ: Final = "system/*.read"
WRITE: Final = "system/*.write"


@dataclass(frozen=True, slots=True)
class Client:
    application: Application
    client_id: str
    client_secret: str  # shown once: the database keeps only its hash


@transaction.atomic
def fhir_client_create(*, team: CareTeam, name: str) -> Client:
    """A confidential client-credentials client acting for ``team`` (as a coordinator)."""
    user = get_user_model().objects.create_user(
        username=f"client-{secrets.token_hex(6)}", first_name=name[:150]
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    CareTeamMembership.objects.create(team=team, user=user, role=Role.COORDINATOR)
    client_secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        name=name,
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=client_secret,  # hashed on save (DOT's hash_client_secret)
    )
    return Client(application, application.client_id, client_secret)
