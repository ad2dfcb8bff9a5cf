"""A clinician's first sign-in in Chromium: set up an authenticator app, keep the recovery codes.

The app's code is computed from the key the page shows as text, as an app given the key
typed in would; each page passes axe-core.
"""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import TOTP

from tests.chromium import PASSWORD, check_accessibility


@pytest.mark.django_db(transaction=True)
def test_a_clinician_sets_up_an_app_then_signs_in_with_its_code(new_page, live_server, clinician):
    page = new_page()
    page.goto(f"{live_server.url}/queues/overdue/")
    page.get_by_label("Username").fill(clinician.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/login/set-up/")
    check_accessibility(page, "second-factor-set-up")
    assert page.get_by_role("img", name=re.compile("QR code")).is_visible()

    page.get_by_label("Code").fill("12")
    page.get_by_role("button", name="Confirm and sign in").click()
    summary = page.locator(".nhsuk-error-summary")
    assert "The code is not right or has expired" in summary.inner_text()
    check_accessibility(page)

    # django-otp refuses every code for a second after a wrong one.
    page.wait_for_timeout(1100)
    secret = page.locator("#secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm and sign in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert page.locator(".cf-recovery-codes li").count() == 10
    check_accessibility(page, "second-factor-recovery-codes")
    page.get_by_role("link", name=re.compile("continue")).click()
    page.wait_for_url(f"{live_server.url}/queues/overdue/")

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill(clinician.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/login/code/")
    check_accessibility(page, "second-factor-code")
    page.get_by_role("button", name="Continue").click()
    assert (
        "Enter the code from your authenticator app"
        in page.locator(".nhsuk-error-summary").inner_text()
    )
    check_accessibility(page)
