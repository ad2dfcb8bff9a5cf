"""The API's token check: django-rest-knox's tokens, one query a request.

A token is accepted as ``Authorization: Token <token>`` (knox's scheme) or
``Authorization: Bearer <token>`` (OAuth 2's, which FHIR clients send): the same token.

knox's ``TokenAuthentication`` runs two queries on every request: the token (its user
joined) and then every other token of that user, deleting the expired ones as it goes. The
second is housekeeping, not security: this class refuses an expired token just the same
(its ``expiry`` is checked against now, so it is refused the second it expires) and leaves
the deletion of expired rows to ``api.tasks.delete_expired_tokens`` (a beat task,
``CELERY_BEAT_SCHEDULE``). A revoked token (logout, password change, deactivation) is a
deleted row, so it is refused by the next request at once. Refresh (``AUTO_REFRESH``) stays
knox's own, whose writes are already throttled by ``MIN_REFRESH_INTERVAL``.

The result is kept on the Django request: the ``Idempotency-Key`` middleware
(``api.idempotency``) authenticates a POST before the view does, and the view's DRF
request wraps the same Django request, so a POST looks its token up once, not twice.

On PostgreSQL that one query is a plain statement written once (``_token_query``), its rows
made into the token and user instances knox's queryset would give: building and compiling
that queryset was 0.5 to 1 ms of Python on every API request (cProfile).

Its own module: DRF's settings import it, and the middleware uses it.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from functools import cache
from hmac import compare_digest
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from episodes.models import CareTeamMembership
from episodes.selectors.access import remember_team_ids
from infra.db import prepared_cursor

# The Django request's attribute holding (token header, result) once authenticated.
CACHED_ATTRIBUTE = "_careflow_token_authentication"
# The Authorization schemes a knox token is accepted under (compared in lower case):
# knox's own (AUTH_HEADER_PREFIX) and OAuth 2's, which FHIR clients send.
SCHEMES = (knox_settings.AUTH_HEADER_PREFIX.lower().encode(), b"bearer")


class CareflowTokenAuthentication(TokenAuthentication):
    """knox's token check in one query; expired tokens refused, their rows deleted by beat."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:  # noqa: ANN401 - DRF's Request
        http_request = getattr(request, "_request", request)
        header = http_request.META.get("HTTP_AUTHORIZATION", "")
        cached = getattr(http_request, CACHED_ATTRIBUTE, None)
        if cached is not None and cached[0] == header:
            return cached[1]
        found = self._authenticate(request)
        setattr(http_request, CACHED_ATTRIBUTE, (header, found))
        return found

    def _authenticate(self, request: Any) -> tuple[Any, Any] | None:  # noqa: ANN401 - DRF's Request
        """The header check of knox, with ``Bearer`` taken as ``Token`` (RFC 6750's scheme).

        Standard FHIR and OAuth clients send ``Authorization: Bearer <token>`` and know no
        other scheme; the token is the same knox token either way.
        """
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in SCHEMES:
            return None  # another scheme, or none: possibly for another backend
        if len(auth) == 1:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. No credentials provided.")
            )
        if len(auth) > 2:  # noqa: PLR2004 - a scheme and a token
            raise exceptions.AuthenticationFailed(
                _("Invalid token header. Token string should not contain spaces.")
            )
        if auth[0].lower() == b"bearer":
            # A Bearer token that is no knox token may be an OAuth 2 access token: left to
            # the next authentication class (the FHIR facade's OAuth one), if there is one.
            try:
                return self.authenticate_credentials(auth[1])
            except exceptions.AuthenticationFailed:
                return None
        return self.authenticate_credentials(auth[1])

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        msg = _("Invalid token.")
        try:
            text = token.decode("ascii")  # knox's tokens are hex: anything else is no token
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(msg) from None
        now = timezone.now()
        for auth_token in _tokens_with_users(text[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if auth_token.expiry is not None and auth_token.expiry < now:
                continue  # expired: refused; api.tasks.delete_expired_tokens deletes it
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)


class CareflowOAuth2Authentication(OAuth2Authentication):
    """An OAuth 2 access token (django-oauth-toolkit), as the client's service user.

    A client-credentials token belongs to no user (DOT leaves it None); the client's
    application names its service user, a member of one care team, so the token sees what
    that user may see: the care-team scoping holds unchanged. Scopes are checked by the
    views that take these tokens (interop's FhirApi).
    """

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:  # noqa: ANN401 - DRF's Request
        found = super().authenticate(request)
        if found is None:
            return None
        user, token = found
        if user is None:
            user = token.application.user if token.application_id else None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("This client has no active user."))
        return user, token


@cache
def _token_query() -> tuple[str, list[str], list[str]]:
    """The SELECT of the tokens with a key, their users joined and the users' team ids.

    With it, the token's and the user's field names, in the order of the columns.

    What knox's ``filter(token_key=…).select_related("user")`` sends, written once as a
    plain statement: otherwise Django compiles that queryset again on every request.
    """
    token_model = get_token_model()
    user_model = token_model._meta.get_field("user").related_model  # noqa: SLF001 - public _meta
    tokens = token_model._meta.concrete_fields  # noqa: SLF001
    users = user_model._meta.concrete_fields  # noqa: SLF001
    quote = connection.ops.quote_name
    columns = [f"t.{quote(f.column)}" for f in tokens] + [f"u.{quote(f.column)}" for f in users]
    # The user's team ids beside, for the access checks of the same request: otherwise
    # every list and queue page reads them in a query of its own.
    membership = CareTeamMembership._meta  # noqa: SLF001 - Django's public _meta API
    columns.append(
        f"ARRAY(SELECT m.{quote(membership.get_field('team').column)}"  # noqa: S608 - names
        f" FROM {quote(membership.db_table)} m"
        f" WHERE m.{quote(membership.get_field('user').column)} = u.{quote(user_model._meta.pk.column)}"  # noqa: E501, SLF001
        f" ORDER BY 1)"
    )
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(token_model._meta.db_table)} t"  # noqa: S608, SLF001 - names, not data
        f" INNER JOIN {quote(user_model._meta.db_table)} u"  # noqa: SLF001
        f" ON t.{quote(token_model._meta.get_field('user').column)} = u.{quote(user_model._meta.pk.column)}"  # noqa: E501, SLF001
        f" WHERE t.{quote(token_model._meta.get_field('token_key').column)} = %s"  # noqa: SLF001
    )
    return sql, [f.attname for f in tokens], [f.attname for f in users]


def _tokens_with_users(key: str) -> Iterable[Any]:
    """The tokens whose key is ``key``, each with its user set, as model instances.

    PostgreSQL hands back every column as its field's Python value: the rows become models
    with ``from_db``, as the ORM would build them, without its query compilation.
    """
    token_model = get_token_model()
    sql, token_names, user_names = _token_query()
    user_model = token_model._meta.get_field("user").related_model  # noqa: SLF001 - public _meta
    with prepared_cursor() as cursor:
        cursor.execute(sql, [key])
        rows = cursor.fetchall()
    found = []
    split = len(token_names)
    for row in rows:
        token = token_model.from_db(connection.alias, token_names, row[:split])
        token.user = user_model.from_db(connection.alias, user_names, row[split:-1])
        remember_team_ids(token.user, row[-1])
        found.append(token)
    return found


def delete_expired_tokens() -> int:
    """Delete every expired token (refused already): the row count deleted."""
    deleted, _by_model = get_token_model().objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
