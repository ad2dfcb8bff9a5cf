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
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    check_accessibility(page)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
