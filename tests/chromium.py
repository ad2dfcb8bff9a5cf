"""Debian's headless Chromium for the browser tests (driven by Playwright), and page steps.

``check_accessibility`` runs axe-core on a page (axe-playwright-python injects it with
``page.evaluate``, so a strict Content-Security-Policy would not stop it): no serious or
critical violation. Set CAREFLOW_SCREENSHOTS=<folder> to keep a screenshot of each page
it names.
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = os.environ.get("CAREFLOW_CHROMIUM", "/usr/bin/chromium")
# Closed network: without these, Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
PASSWORD = "pw-for-tests"  # noqa: S105 - tests/factories.py UserFactory
SHOTS = os.environ.get("CAREFLOW_SCREENSHOTS", "")
BLOCKING_IMPACTS = {"serious", "critical"}


def check_accessibility(page, name: str = "") -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415

    violations = Axe().run(page).response["violations"]
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, f"{page.url}: " + "; ".join(blocking)
    if SHOTS and name:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"workspace-{name}.png"), full_page=True)


def sign_in(page, live_server, user) -> None:
    """The sign-in page as staff use it: a clinician's (or superuser's) code after the password.

    Such a user gets an authenticator app set up beforehand (``second_factor_code``).
    """
    from api.mfa import second_factor_asked  # noqa: PLC0415 - needs the app registry

    code = second_factor_code(user) if second_factor_asked(user) else None
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    check_accessibility(page)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if code is not None:
        page.wait_for_url(f"{live_server.url}/login/code/")
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")


def second_factor_code(user) -> str:
    """A code that signs ``user`` in now: their app's (set up if need be), computed from its key.

    django-otp accepts each 30 s step's code once; a second sign-in within the same step gets
    a recovery code instead.
    """
    from django_otp.oath import TOTP  # noqa: PLC0415
    from django_otp.plugins.otp_static.models import StaticDevice  # noqa: PLC0415
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "Authenticator app"}
    )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if device.last_t is None or device.last_t < totp.t():
        return f"{totp.token():0{device.digits}d}"
    recovery, _ = StaticDevice.objects.get_or_create(user=user, confirmed=True)
    return recovery.token_set.create(token=f"r{totp.t():x}{recovery.token_set.count()}").token
