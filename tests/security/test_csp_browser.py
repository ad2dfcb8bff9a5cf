"""Under the Content-Security-Policy, in a real Chromium.

Swagger UI still renders the API and the check-in page still gets its style; no violation.
"""

from __future__ import annotations

import pytest

from notifications.checkins.tokens import checkin_token_for
from notifications.models import Reminder
from tests.factories import new_episode

pytestmark = pytest.mark.django_db(transaction=True)


def _violations(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return seen


def test_swagger_ui_works_under_the_policy(browser_page, live_server):
    violations = _violations(browser_page)
    response = browser_page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    browser_page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Careflow API" in browser_page.inner_text(".swagger-ui .info .title")
    assert browser_page.locator(".opblock").count() > 10  # the operations are listed
    assert violations == []


def test_checkin_page_is_styled_under_the_policy(browser_page, live_server, patient, coordinator):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    violations = _violations(browser_page)
    response = browser_page.goto(f"{live_server.url}/check-in/{checkin_token_for(reminder)}/")
    assert "no-store" in response.headers["cache-control"]
    colour = browser_page.eval_on_selector("button", "b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(11, 92, 173)"
    assert violations == []
