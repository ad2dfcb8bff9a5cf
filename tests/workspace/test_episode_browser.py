"""The episode page in Debian's headless Chromium at a laptop's, a tablet's and a phone's size.

The red flags are in the first screen at 1366x768 and 768x1024 (the banner's "why it is
urgent", and on a laptop the red-flag section beside the work); no size scrolls sideways;
axe-core finds no serious or critical violation. Closing asks to confirm first.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from episodes import services
from episodes.models import Episode
from tests.chromium import check_accessibility, sign_in
from tests.factories import episode_for

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def a_busy_urgent_episode(team, coordinator) -> Episode:
    """Cauda equina and a fever, imaging, a care plan: a page as long as they get."""
    episode = episode_for(team, coordinator, days=8, given_name="Femi", radicular_pain=True)
    services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    services.imaging_record(
        episode_id=episode.pk, by=coordinator, performed_on=episode.symptom_onset
    )
    for item in ("nsaid", "opioid_short_term", "core_stabilization"):
        services.care_plan_item_add(episode_id=episode.pk, by=coordinator, item=item)
    services.episode_update(
        episode_id=episode.pk, by=coordinator, fields={"assigned_to": coordinator}
    )
    return episode


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def in_first_screen(page, selector: str, viewport: dict) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop", "tablet"])
def test_the_red_flags_are_in_the_first_screen(new_page, live_server, team, coordinator, viewport):
    size = "laptop" if viewport is LAPTOP else "tablet"
    episode = a_busy_urgent_episode(team, coordinator)
    page = new_page(viewport)
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    why = page.locator("#why").inner_text()
    assert "Red flag: Saddle anaesthesia — RF-1 cauda equina syndrome" in why
    assert "Red flag: Fever — RF-4 suspected infection" in why
    assert in_first_screen(page, "#why", viewport), size
    assert in_first_screen(page, "#actions-title", viewport), size
    if size == "laptop":
        assert in_first_screen(page, "#flags-title", viewport)
        assert in_first_screen(page, ".cf-flag--active", viewport)
    assert no_sideways_scroll(page), size
    check_accessibility(page, f"episode-{size}")


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_page_reads_down_without_scrolling_sideways(
    new_page, live_server, team, coordinator
):
    episode = a_busy_urgent_episode(team, coordinator)
    page = new_page(PHONE)
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    assert no_sideways_scroll(page)
    # Open every disclosure: the forms and the pathway picture still fit.
    for summary in page.locator("summary").all():
        summary.click()
    assert no_sideways_scroll(page)
    check_accessibility(page, "episode-phone")


@pytest.mark.django_db(transaction=True)
def test_close_asks_to_confirm_in_the_browser(new_page, live_server, team, coordinator):
    episode = episode_for(team, coordinator, days=20, radicular_pain=True)
    page = new_page(LAPTOP)
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    close = page.locator("#form-t-close")
    close.locator("summary").click()
    close.get_by_label("Lost to follow-up").check()
    close.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Close this episode?")).to_be_visible()
    check_accessibility(page)
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"
    page.get_by_role("button", name="Yes, close the episode").click()
    page.wait_for_url(re.compile(r"done=close"))
    assert "Closed" in page.locator(".cf-banner").inner_text()
    assert Episode.objects.get(pk=episode.pk).state == "closed"
