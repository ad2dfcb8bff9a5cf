"""Single sign-on in Chromium through a real OpenID Provider (oidc-provider under node).

The provider (tests/oidc/) holds the accounts and their groups; Careflow is configured from
its discovery document. A new user lands in the care team and role their group gives; a
user whose group is removed at the provider loses access at their next sign-in, with their
sessions and API tokens (knox and OAuth); a forged ID token and a replayed one (or a
replayed answer with its state) sign nobody in.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.contrib.auth import get_user_model
from knox.models import AuthToken
from oauth2_provider.models import Application

from api import sso
from api.models import SignInIdentity
from episodes.models import CareTeamMembership
from tests.chromium import PHONE, check_accessibility
from tests.factories import MembershipFactory, UserFactory
from tests.oidc.provider import OpenIdProvider, TokenInterceptor

GROUPS = {
    "spine-clinicians": {"team": "Team A", "role": "clinician"},
    "spine-coordinators": {"team": "Team A", "role": "coordinator"},
    "north-coordinators": {"team": "Team B", "role": "coordinator"},
}
ASHA = {"sub": "5f1e8c52-asha", "email": "asha.patel@trust.example", "amr": ["pwd", "otp"]}
BUTTON = "Sign in with Test Health Trust"


@pytest.fixture
def provider(live_server, tmp_path, settings, team, other_team):
    op = OpenIdProvider(tmp_path, redirect_uri=f"{live_server.url}/login/sso/callback/")
    for name, value in op.settings().items():
        setattr(settings, name, value)
    settings.CAREFLOW_OIDC_GROUPS = GROUPS
    op.account_set(
        "asha",
        sub=ASHA["sub"],
        groups=["spine-clinicians"],
        amr=ASHA["amr"],
        email=ASHA["email"],
        given_name="Asha",
        family_name="Patel",
        preferred_username="asha.patel",
    )
    op.account_set("ben", sub="9a03-ben", groups=["north-coordinators"], amr=["pwd"])
    yield op
    op.stop()


def provider_sign_in(page, live_server, provider, username: str, *, start: str = "/") -> None:
    """From a workspace page through the provider's login and back (wherever Careflow sends)."""
    page.goto(f"{live_server.url}{start}")
    page.get_by_role("link", name=BUTTON).click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.get_by_label("Provider username").fill(username)
    page.get_by_label("Provider password").fill(f"{username}-provider-password")
    page.get_by_role("button", name="Sign in at the provider").click()
    page.wait_for_url(re.compile(re.escape(live_server.url)))
    page.wait_for_load_state()


def fits_a_phone(page) -> bool:
    page.set_viewport_size(PHONE)
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def error_summary(page) -> str:
    return page.locator(".nhsuk-error-summary").inner_text()


def memberships(user) -> dict[str, str]:
    return dict(CareTeamMembership.objects.filter(user=user).values_list("team__name", "role"))


@pytest.mark.django_db(transaction=True)
def test_a_new_user_lands_in_their_team_and_a_leaver_loses_access(
    new_page, live_server, provider, other_team
):
    # Someone with the same email already has a local account: sign-on never matches by email.
    local = UserFactory(username="asha", email=ASHA["email"])
    MembershipFactory(team=other_team, user=local, role="coordinator")

    page = new_page()
    page.goto(f"{live_server.url}/queues/overdue/")
    assert page.get_by_role("link", name=BUTTON).is_visible()
    check_accessibility(page, "sign-in-with-provider")
    provider_sign_in(page, live_server, provider, "asha", start="/queues/overdue/")
    # The provider's second factor stands for Careflow's: no code page for this clinician.
    assert page.url == f"{live_server.url}/queues/overdue/"

    identity = SignInIdentity.objects.select_related("user").get(subject=ASHA["sub"])
    user = identity.user
    assert identity.issuer == provider.issuer
    assert identity.last_amr == ["pwd", "otp"]
    assert user.pk != local.pk
    assert (user.username, user.email, user.first_name) == ("asha.patel", ASHA["email"], "Asha")
    assert not user.has_usable_password()
    assert memberships(user) == {"Team A": "clinician"}
    assert memberships(local) == {"Team B": "coordinator"}

    # The tokens she holds: an API token from the workspace (she has no password for the
    # token endpoint) and an OAuth 2 token of a client acting as her.
    page.goto(f"{live_server.url}/api-token/")
    page.get_by_role("button", name="Create an API token").click()
    api_token = page.locator("#token").inner_text()
    check_accessibility(page, "api-token")
    assert fits_a_phone(page)
    assert AuthToken.objects.filter(user=user).count() == 1
    app = Application.objects.create(
        name="asha's script",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="asha-client-secret-0123456789",
    )
    oauth = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(app.client_id, "asha-client-secret-0123456789"),
        timeout=10,
    ).json()["access_token"]
    api = {"Authorization": f"Token {api_token}"}
    fhir = {"Authorization": f"Bearer {oauth}", "Accept": "application/fhir+json"}
    assert requests.get(f"{live_server.url}/api/episodes/", headers=api, timeout=10).ok
    assert requests.get(f"{live_server.url}/fhir/Patient", headers=fhir, timeout=10).ok

    # She leaves the spine team at the organisation; at her next sign-in Careflow follows.
    provider.account_set("asha", sub=ASHA["sub"], groups=[], amr=ASHA["amr"], email=ASHA["email"])
    later = new_page()
    provider_sign_in(later, live_server, provider, "asha")
    assert "/login/" in later.url
    assert "not in a Careflow care team" in error_summary(later)
    check_accessibility(later)
    user.refresh_from_db()
    assert not user.is_active
    assert memberships(user) == {}
    assert (
        requests.get(f"{live_server.url}/api/episodes/", headers=api, timeout=10).status_code == 401
    )
    assert (
        requests.get(f"{live_server.url}/fhir/Patient", headers=fhir, timeout=10).status_code == 401
    )
    # The session she still had open ends too.
    page.goto(f"{live_server.url}/queues/overdue/")
    assert "/login/" in page.url

    # Back in a group: the provider's deactivation is undone, with the new group's role.
    provider.account_set("asha", sub=ASHA["sub"], groups=["spine-coordinators"], amr=["pwd"])
    again = new_page()
    provider_sign_in(again, live_server, provider, "asha")
    assert again.url == f"{live_server.url}/"
    user.refresh_from_db()
    assert user.is_active
    assert memberships(user) == {"Team A": "coordinator"}
    assert get_user_model().objects.filter(sign_in_identity__subject=ASHA["sub"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_clinician_without_the_providers_second_factor_is_refused(
    new_page, live_server, provider
):
    provider.account_set("ravi", sub="77-ravi", groups=["spine-clinicians"], amr=["pwd"])
    page = new_page(PHONE)
    provider_sign_in(page, live_server, provider, "ravi")
    assert "/login/" in page.url
    assert "did not use one" in error_summary(page)
    check_accessibility(page)
    assert fits_a_phone(page)
    assert not SignInIdentity.objects.filter(subject="77-ravi").exists()


@pytest.mark.django_db(transaction=True)
def test_forged_and_replayed_answers_sign_nobody_in(
    new_page, live_server, provider, settings, monkeypatch
):
    refusals: list[str] = []
    monkeypatch.setattr(sso.logger, "warning", lambda msg, *args: refusals.append(msg % args))
    interceptor = TokenInterceptor(
        provider.discovery["token_endpoint"], forging_kid=provider.key_id
    )
    settings.OIDC_OP_TOKEN_ENDPOINT = interceptor.url
    try:
        page = new_page()
        callbacks: list[str] = []
        page.on(
            "request",
            lambda r: callbacks.append(r.url) if "/login/sso/callback/" in r.url else None,
        )
        provider_sign_in(page, live_server, provider, "asha")
        assert page.url == f"{live_server.url}/"
        asha = SignInIdentity.objects.get(subject=ASHA["sub"]).user

        # The provider's answer (code and state) replayed from another browser, then from
        # the same one: its state was used once and is gone.
        attacker = new_page()
        response = attacker.goto(callbacks[0])
        assert response.status == 400
        assert "did not complete" in error_summary(attacker)
        page.get_by_role("button", name="Sign out").click()
        response = page.goto(callbacks[0])
        assert response.status == 400
        page.goto(f"{live_server.url}/")
        assert "/login/" in page.url

        # Ben signs in, and the ID token Careflow receives is asha's earlier one (its nonce is
        # not this sign-in's), then one claiming to be asha signed with another key.
        for mode, reason in (
            ("replay", "JWT Nonce verification failed"),
            ("forge", "InvalidSignatureError"),
        ):
            interceptor.mode = mode
            interceptor.forge_sub = ASHA["sub"]
            ben = new_page()
            provider_sign_in(ben, live_server, provider, "ben")
            assert "/login/" in ben.url, mode
            assert "did not complete" in error_summary(ben), mode
            assert reason in refusals[-1], refusals
            ben.goto(f"{live_server.url}/queues/overdue/")
            assert "/login/" in ben.url, mode
        assert not SignInIdentity.objects.filter(subject="9a03-ben").exists()
        assert SignInIdentity.objects.get(subject=ASHA["sub"]).user == asha
        assert len(interceptor.seen) == 3  # the provider issued each of them
    finally:
        interceptor.stop()
