"""Single sign-on through the organisation's OpenID provider (mozilla-django-oidc).

The workspace sends the browser to the provider (authorization code flow with ``state``,
``nonce`` and PKCE, kept in the session and used once: ``workspace.views.login_sso``); on
its return this backend exchanges the code, checks the ID token (signature against the
provider's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``) and reads the user's claims. Then,
in one transaction (``sso_sign_in``):

- the user is the one whose (issuer, ``sub``) is stored (``SignInIdentity``), or a new one
  with no usable password; never found by email;
- their care teams and roles are exactly what ``CAREFLOW_OIDC_GROUPS`` makes of the groups
  claim, at every sign-in;
- a user whose groups map to no care team is refused, and one who had access loses it:
  memberships removed, deactivated (their sessions end), every API token deleted;
- a user who must give a second factor (``api.mfa``'s policy, asked of the memberships the
  claims give) is refused, nothing changed, unless the provider's ``amr`` names one
  (``CAREFLOW_OIDC_MFA_AMR``); the ``amr`` is kept on the identity. The provider's factor
  stands for Careflow's own authenticator app, which such users never set up.

A refusal is ``None`` with its reason on the request (``REFUSAL_ATTR``) for the page to say.
https://mozilla-django-oidc.readthedocs.io/en/stable/installation.html#additional-optional-configuration
"""

from __future__ import annotations

import logging
import re
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from api.mfa import second_factor_required
from api.models import SignInIdentity
from api.tokens import tokens_end
from episodes.models import CareTeam, CareTeamMembership, Role
from episodes.selectors.access import user_with_team_ids
from infra import second_factor

logger = logging.getLogger(__name__)

REFUSAL_ATTR = "careflow_sso_refusal"
# How a session was signed in through the provider: {"provider": issuer, "amr": [...]}.
SIGNED_IN_BY = "careflow_signed_in_by"
NOT_IN_A_TEAM = _(
    "Your organisation's account is not in a Careflow care team: ask whoever manages "
    "your team's access to add you."
)
NO_SECOND_FACTOR = _(
    "Careflow needs a second factor for your role, and your organisation's sign-in did not "
    "use one: sign in again with your second factor."
)
DEACTIVATED = _("Your Careflow account is deactivated: ask an administrator.")
FAILED = _("The sign-in through your organisation did not complete: try again.")

# Django's username characters; anything else in a claim becomes "-".
_NOT_USERNAME = re.compile(r"[^\w.@+-]")
_ROLE_RANK = {Role.COORDINATOR: 0, Role.CLINICIAN: 1}


def sso_configured() -> bool:
    """A provider is set up: its client and every endpoint the code flow needs."""
    return all(
        (
            settings.OIDC_RP_CLIENT_ID,
            settings.CAREFLOW_OIDC_ISSUER,
            settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
            settings.OIDC_OP_TOKEN_ENDPOINT,
            settings.OIDC_OP_USER_ENDPOINT,
            settings.OIDC_OP_JWKS_ENDPOINT,
        )
    )


def amr_multi_factor(amr: Any) -> bool:  # noqa: ANN401 - a claim's JSON value
    """The provider's ``amr`` names a factor beyond a password (RFC 8176 values)."""
    if isinstance(amr, str):
        amr = [amr]
    if not isinstance(amr, list):
        return False
    return any(isinstance(v, str) and v in settings.CAREFLOW_OIDC_MFA_AMR for v in amr)


def session_second_factor(request: Any) -> bool:  # noqa: ANN401 - a request with a session
    """The session was signed in with a second factor: the provider's, or Careflow's own."""
    signed_in_by = request.session.get(SIGNED_IN_BY)
    if isinstance(signed_in_by, dict) and amr_multi_factor(signed_in_by.get("amr")):
        return True
    return second_factor.session_device(request) is not None


def axes_not_a_password(request: Any, credentials: dict | None) -> bool:  # noqa: ANN401, ARG001
    """django-axes' ``AXES_WHITELIST_CALLABLE``: the provider's callback is no password attempt.

    Its credentials are a nonce and a PKCE verifier, with no username: counted, every refusal
    (a leaver, say) would fall on one "no username" per address, and enough of them behind a
    hospital's one address would lock everyone there out of single sign-on; the provider
    limits its own password attempts.
    """
    return (
        isinstance(credentials, dict)
        and "code_verifier" in credentials
        and not (credentials.keys() & {"username", "password"})
    )


def teams_from_claims(claims: dict) -> dict[int, str]:
    """``{care team id: role}`` the groups claim gives, the clinician role winning a tie."""
    groups = claims.get(settings.CAREFLOW_OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return {}
    wanted: dict[str, str] = {}
    for group in groups:
        rule = settings.CAREFLOW_OIDC_GROUPS.get(group) if isinstance(group, str) else None
        if not isinstance(rule, dict) or rule.get("role") not in _ROLE_RANK:
            continue
        team, role = str(rule.get("team", "")), rule["role"]
        if _ROLE_RANK[role] >= _ROLE_RANK.get(wanted.get(team, ""), -1):
            wanted[team] = role
    teams = dict(CareTeam.objects.filter(name__in=wanted).values_list("name", "pk"))
    for name in wanted.keys() - teams.keys():
        logger.warning("CAREFLOW_OIDC_GROUPS names a care team that does not exist: %s", name)
    return {teams[name]: role for name, role in wanted.items() if name in teams}


def access_end(user: Any) -> None:  # noqa: ANN401 - auth user
    """No care team, not active (so no session), no API token."""
    CareTeamMembership.objects.filter(user=user).delete()
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])  # pre_save ends the tokens too (api.tokens)
    tokens_end(user.pk)


def _username(claims: dict) -> str:
    """A free username from ``preferred_username`` (or the email), else from ``sub``."""
    base = str(claims.get("preferred_username") or claims.get("email") or f"sso-{claims['sub']}")
    base = _NOT_USERNAME.sub("-", base)[:140] or "sso"
    taken = set(
        get_user_model()
        .objects.filter(username__startswith=base)
        .values_list("username", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _memberships_set(user: Any, teams: dict[int, str]) -> None:  # noqa: ANN401 - auth user
    current = dict(CareTeamMembership.objects.filter(user=user).values_list("team_id", "role"))
    CareTeamMembership.objects.filter(user=user).exclude(team_id__in=teams).delete()
    for team_id, role in teams.items():
        if team_id not in current:
            CareTeamMembership.objects.create(user=user, team_id=team_id, role=role)
        elif current[team_id] != role:
            CareTeamMembership.objects.filter(user=user, team_id=team_id).update(role=role)


@transaction.atomic
def sso_sign_in(*, claims: dict) -> tuple[Any | None, str | None]:
    """The user the provider's verified claims sign in, or ``(None, why not)``."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    identity = (
        SignInIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    teams = teams_from_claims(claims)
    if not teams:
        if identity is not None:
            access_end(identity.user)
            if not identity.deactivated_by_provider:
                identity.deactivated_by_provider = True
                identity.save(update_fields=["deactivated_by_provider"])
            logger.info(
                "single sign-on: user %s is in no care team: access ended", identity.user_id
            )
        return None, str(NOT_IN_A_TEAM)
    amr = claims.get("amr") if isinstance(claims.get("amr"), list) else []
    if identity is not None and not identity.user.is_active:
        if not identity.deactivated_by_provider:
            return None, str(DEACTIVATED)  # an administrator's decision: the provider's stays
        identity.user.is_active = True
    if identity is None:
        user = _user_create(claims)
        identity = SignInIdentity(user=user, issuer=issuer, subject=subject)
    user = identity.user
    for field, claim in (
        ("email", "email"),
        ("first_name", "given_name"),
        ("last_name", "family_name"),
    ):
        value = claims.get(claim)
        if isinstance(value, str):
            setattr(user, field, value[: get_user_model()._meta.get_field(field).max_length])  # noqa: SLF001
    user.save()
    _memberships_set(user, teams)
    if second_factor_required(user) and not amr_multi_factor(amr):
        # Asked of the memberships as they now are, as a password sign-in would be.
        transaction.set_rollback(True)
        return None, str(NO_SECOND_FACTOR)
    identity.last_amr = [v for v in amr if isinstance(v, str)]
    identity.last_sign_in_at = timezone.now()
    identity.deactivated_by_provider = False
    identity.save()
    return user, None


def _user_create(claims: dict) -> Any:  # noqa: ANN401 - auth user
    """A new user with no usable password: the provider is their only way in."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return get_user_model().objects.create_user(_username(claims), password=None)
        except IntegrityError:  # the same username taken by a sign-in at the same moment
            continue
    msg = "no free username"
    raise SuspiciousOperation(msg)


class CareflowOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, matching by (issuer, ``sub``) and checking more of the token.

    The library checks the signature and the nonce; this adds ``iss``, ``aud`` (and ``azp``
    when there are several audiences), required ``exp``/``iat`` and the userinfo's ``sub``
    (OpenID Connect Core 3.1.3.7 and 5.3.2). Every failure is a refusal, never an error page.
    """

    def authenticate(self, request: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if request is None or not sso_configured() or "state" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (
            SuspiciousOperation,
            jwt.InvalidTokenError,
            requests.RequestException,
            ValueError,
            KeyError,
            TypeError,
        ) as exc:
            # The reason, never the token: it would let a reader of the log sign in.
            reason = str(exc) if isinstance(exc, SuspiciousOperation) else ""
            logger.warning("single sign-on refused: %s %s", exc.__class__.__name__, reason)
            setattr(request, REFUSAL_ATTR, str(FAILED))
            return None

    def get_payload_data(self, token: bytes | str, key: Any) -> dict:  # noqa: ANN401 - a JWK
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
                msg = "the token's alg is not the one configured"
                raise SuspiciousOperation(msg)
            payload = jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.CAREFLOW_OIDC_ISSUER,
                options={"require": ["iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(exc.__class__.__name__) from exc
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            msg = "azp is not this client"
            raise SuspiciousOperation(msg)
        return payload

    def verify_token(self, token: str, **kwargs: Any) -> dict:
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs and not {"exp", "iat"} <= payload.keys():
            # An ID token (the only token verified with a nonce) must say when it ends.
            msg = "the ID token has no exp or iat"
            raise SuspiciousOperation(msg)
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        info = super().get_userinfo(access_token, id_token, payload)
        if not isinstance(info, dict) or str(info.get("sub")) != str(payload["sub"]):
            msg = "userinfo is about another subject"
            raise SuspiciousOperation(msg)
        # The ID token's own claims (amr, and groups where a provider puts them there),
        # the userinfo's for the rest; who and how from the signed token only.
        return {**payload, **info, "iss": payload["iss"], "amr": payload.get("amr", [])}

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:  # noqa: ANN401
        claims = self.get_userinfo(access_token, id_token, payload)
        user, refusal = sso_sign_in(claims=claims)
        if refusal is not None:
            setattr(self.request, REFUSAL_ATTR, refusal)
        return user

    def get_user(self, user_id: int) -> Any:  # noqa: ANN401
        """As Django's ModelBackend: a deactivated user's session signs nobody in.

        The user and its team ids in one statement, as the password backend reads them
        (``workspace.backends``).
        """
        try:
            user = user_with_team_ids(int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None
