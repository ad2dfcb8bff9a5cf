"""Single sign-on's rules without a browser: the ID token checks, groups to teams, passwords off.

The whole sign-in through a real provider in Chromium is
tests/workspace/test_single_sign_on_browser.py; here each check is proven both ways.
"""

from __future__ import annotations

import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import SuspiciousOperation
from knox.models import AuthToken
from rest_framework.test import APIClient

from api.models import SignInIdentity
from api.sso import (
    DEACTIVATED,
    NO_SECOND_FACTOR,
    NOT_IN_A_TEAM,
    SIGNED_IN_BY,
    CareflowOIDCBackend,
    sso_sign_in,
    teams_from_claims,
)
from episodes.models import CareTeamMembership

pytestmark = pytest.mark.django_db

ISSUER = "https://login.trust.example"
CLIENT = "careflow"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
GROUPS = {
    "a-clin": {"team": "Team A", "role": "clinician"},
    "a-coord": {"team": "Team A", "role": "coordinator"},
    "b-coord": {"team": "Team B", "role": "coordinator"},
    "gone": {"team": "No such team", "role": "coordinator"},
    "odd": {"team": "Team B", "role": "superuser"},
}


@pytest.fixture
def sso(settings, team, other_team):
    settings.CAREFLOW_OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = CLIENT
    settings.OIDC_RP_CLIENT_SECRET = "secret"  # noqa: S105
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ISSUER}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{ISSUER}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/jwks"
    settings.OIDC_RP_IDP_SIGN_KEY = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.CAREFLOW_OIDC_GROUPS = GROUPS
    return team, other_team


def _token(key=KEY, alg="RS256", **changes) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "s-1", "nonce": "n-1", "iat": now}
    claims["exp"] = now + 300
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg)


def _claims(groups, amr=("pwd", "otp"), sub="s-1") -> dict:
    return {"iss": ISSUER, "sub": sub, "groups": list(groups), "amr": list(amr)}


def test_an_id_token_from_the_provider_for_this_client_is_accepted(sso):
    assert CareflowOIDCBackend().verify_token(_token(), nonce="n-1")["sub"] == "s-1"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: _token(key=OTHER_KEY), id="signed with another key"),
        pytest.param(lambda: _token(iss="https://evil.example"), id="another issuer"),
        pytest.param(lambda: _token(aud="another-client"), id="for another client"),
        pytest.param(lambda: _token(aud=[CLIENT, "x"]), id="several audiences and no azp"),
        pytest.param(lambda: _token(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda: _token(exp=None), id="no exp"),
        pytest.param(lambda: _token(iat=None), id="no iat"),
        pytest.param(lambda: _token(nonce="n-other"), id="another sign-in's nonce"),
        pytest.param(
            lambda: _token(key="the-client-secret-as-an-hmac-key-0123456789", alg="HS256"),
            id="HS256 with the client secret",
        ),
    ],
)
def test_an_id_token_that_is_not_right_is_refused(sso, token):
    with pytest.raises(SuspiciousOperation):
        CareflowOIDCBackend().verify_token(token(), nonce="n-1")


def test_groups_make_teams_and_roles_the_clinician_role_winning(sso):
    team, other_team = sso
    assert teams_from_claims(_claims(["a-coord", "a-clin", "b-coord"])) == {
        team.pk: "clinician",
        other_team.pk: "coordinator",
    }
    # A team that does not exist, a role that is not one, a group not mapped, not a list.
    assert teams_from_claims(_claims(["gone", "odd", "unmapped"])) == {}
    assert teams_from_claims({"groups": {"a-clin": True}}) == {}
    assert teams_from_claims({"groups": "a-coord"}) == {team.pk: "coordinator"}


def test_a_clinician_needs_the_providers_second_factor_a_coordinator_does_not(sso, settings):
    assert sso_sign_in(claims=_claims(["a-clin"], amr=["pwd"])) == (None, str(NO_SECOND_FACTOR))
    user, refusal = sso_sign_in(claims=_claims(["a-coord"], amr=["pwd"]))
    assert refusal is None
    assert SignInIdentity.objects.get(user=user).last_amr == ["pwd"]
    settings.CAREFLOW_MFA_REQUIRED_FOR_ALL = True
    assert sso_sign_in(claims=_claims(["a-coord"], amr=["pwd"])) == (None, str(NO_SECOND_FACTOR))
    assert sso_sign_in(claims=_claims(["a-coord"], amr=["pwd", "mfa"]))[0] == user


def test_an_administrators_deactivation_is_not_undone_by_the_provider(sso):
    user, _ = sso_sign_in(claims=_claims(["a-coord"]))
    user.is_active = False
    user.save()
    assert sso_sign_in(claims=_claims(["a-coord"])) == (None, str(DEACTIVATED))
    # The provider's own deactivation is undone by a sign-in with a mapped group.
    assert sso_sign_in(claims=_claims([])) == (None, str(NOT_IN_A_TEAM))
    user.refresh_from_db()
    assert not user.is_active


def test_the_same_username_at_the_provider_gets_a_free_one(sso, coordinator):
    claims = {**_claims(["a-coord"], sub="s-2"), "preferred_username": coordinator.username}
    user, _ = sso_sign_in(claims=claims)
    assert user.username == f"{coordinator.username}-2"
    assert CareTeamMembership.objects.filter(user=coordinator).count() == 1


def test_with_passwords_off_only_the_provider_signs_in(sso, settings, client, coordinator):
    settings.CAREFLOW_LOCAL_PASSWORDS = False
    page = client.get("/login/")
    assert b"Sign in with" in page.content
    assert b'name="password"' not in page.content
    refused = client.post("/login/", {"username": coordinator.username, "password": "pw-for-tests"})
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    token = APIClient().post(
        "/api/auth/token/",
        {"username": coordinator.username, "password": "pw-for-tests"},
        format="json",
    )
    assert token.status_code == 403


def test_without_a_provider_passwords_stay_and_the_provider_pages_are_404(client, settings):
    settings.CAREFLOW_LOCAL_PASSWORDS = False  # no provider: passwords are the only way in
    page = client.get("/login/")
    assert b'name="password"' in page.content
    assert b"Sign in with" not in page.content
    assert client.get("/login/sso/").status_code == 404
    assert client.get("/login/sso/callback/?code=x&state=y").status_code == 404


def test_a_callback_this_session_did_not_start_is_a_400_not_an_error(sso, client):
    response = client.get("/login/sso/callback/?code=x&state=y")
    assert response.status_code == 400
    assert b"did not complete" in response.content
    client.get("/login/sso/")  # a sign-in started: its state is in the session
    response = client.get("/login/sso/callback/?code=x&state=not-that-one")
    assert response.status_code == 400
    assert b"did not complete" in response.content
    response = client.get("/login/sso/callback/?error=access_denied&state=y")
    assert response.status_code == 400


def test_a_token_from_the_workspace_needs_the_sign_in_policy_as_it_stands(client, coordinator):
    client.force_login(coordinator)
    made = client.post("/api-token/")
    assert made.status_code == 200
    token = re.search(rb'id="token"[^>]*>([^<]+)<', made.content).group(1).decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/episodes/").status_code == 200

    # Made a clinician after signing in with a password alone: no token from this session.
    CareTeamMembership.objects.filter(user=coordinator).update(role="clinician")
    refused = client.post("/api-token/")
    assert refused.status_code == 403
    assert b"sign in again" in refused.content
    assert AuthToken.objects.filter(user=coordinator).count() == 1
    # A session the provider signed in with its second factor may.
    session = client.session
    session[SIGNED_IN_BY] = {"provider": ISSUER, "amr": ["pwd", "hwk"]}
    session.save()
    assert client.post("/api-token/").status_code == 200
    assert AuthToken.objects.filter(user=coordinator).count() == 2


def test_a_provider_that_does_not_answer_is_a_refusal_and_no_lockout(sso, client, settings):
    from axes.models import AccessAttempt, AccessFailureLog  # noqa: PLC0415

    settings.AXES_ENABLED = True
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/token"  # noqa: S105 - nothing listens
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        start = client.get("/login/sso/")
        state = re.search(r"state=([^&]+)", start["Location"]).group(1)
        response = client.get(f"/login/sso/callback/?code=c&state={state}")
        assert response.status_code == 400
        assert b"did not complete" in response.content
    assert not AccessAttempt.objects.exists()
    assert not AccessFailureLog.objects.exists()
    assert client.get("/login/sso/").status_code == 302
