"""A queue as a worklist in Chromium: a screenful of rows, no sideways scroll, focus kept.

At 1366 x 768 at least 12 rows show without scrolling; at 768 and 390 px wide the page never
scrolls sideways (under 641 px each row stacks, its cells labelled); Take keeps focus in its
row and asks before taking a colleague's patient; the board's refresh keeps focus where it
was and says only what is new. Each page passes axe-core.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from episodes import services
from episodes.models import Episode
from tests.chromium import check_accessibility, sign_in
from tests.factories import episode_for
from tests.workspace.helpers import SIZES, routine_episodes

SHOTS = os.environ.get("CAREFLOW_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def scrolls_sideways(page) -> bool:
    """The page, or a table's wrapper, wider than the window (a control cut off)."""
    return page.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('.cf-table-wrap')]
               .some(e => e.scrollWidth > e.clientWidth)"""
    )


def rows_in_view(page) -> int:
    """Queue rows wholly inside the window as it first shows."""
    return page.evaluate(
        """() => [...document.querySelectorAll('tbody tr')].filter(
               r => r.getBoundingClientRect().bottom <= window.innerHeight).length"""
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_a_queue_fits_the_window(new_page, live_server, team, coordinator, clinician, size):  # noqa: PLR0917 - fixtures
    episodes = routine_episodes(team, coordinator, 30)
    services.episode_update(
        episode_id=episodes[0].pk, by=coordinator, fields={"assigned_to": clinician}
    )
    page = new_page(SIZES[size])
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/queues/unassigned/")
    shot(page, f"queue-{size}")
    assert "29 episodes, page 1 of 2" in page.locator(".cf-pager--top").inner_text()
    if size == "laptop":
        assert rows_in_view(page) >= 12
    assert not scrolls_sideways(page)
    check_accessibility(page)
    page.goto(f"{live_server.url}/")
    assert not scrolls_sideways(page)
    check_accessibility(page)
    shot(page, f"board-{size}")
    # Find anyone from the header: the answer is the POST's page, the words in no URL.
    page.get_by_role("searchbox", name="Find a patient").fill(episodes[0].patient.family_name)
    page.get_by_role("searchbox", name="Find a patient").press("Enter")
    page.wait_for_url(re.compile(r"/search/$"))
    assert episodes[0].patient.display_name in page.locator("tbody").inner_text()
    assert not scrolls_sideways(page)
    check_accessibility(page)
    shot(page, f"search-{size}")


def active_id(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def focus_lands_on(page, element_id: str) -> None:
    """Wait for focus to be on ``element_id`` (it moves once htmx has settled the swap)."""
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id",
        arg=element_id,
        timeout=5_000,
    )


@pytest.mark.django_db(transaction=True)
def test_the_board_refreshes_without_moving_focus_and_says_only_what_is_new(
    new_page, live_server, settings, team, coordinator
):
    settings.WORKSPACE_BOARD_POLL_SECONDS = 1
    older = routine_episodes(team, coordinator, 3)
    for episode, sign in zip(older, ("history_of_cancer", "fever", "osteoporosis"), strict=True):
        services.red_flag_raise(episode_id=episode.pk, sign=sign, by=coordinator)
    cauda = episode_for(team, coordinator, days=2, given_name="Kai")
    services.red_flag_raise(episode_id=cauda.pk, sign="saddle_anesthesia", by=coordinator)
    page = new_page(SIZES["laptop"])
    sign_in(page, live_server, coordinator)
    # Newest of four, yet first: RF-1 stands apart, in words, above the other flags.
    emergency = page.locator("#emergency-title + ol")
    assert (
        "Emergency: RF-1 cauda equina syndrome or RF-2"
        in page.locator("#emergency-title").inner_text()
    )
    assert cauda.patient.display_name in emergency.inner_text()
    assert "raised just now" in emergency.inner_text()
    assert page.locator("#others-title + ol > li").count() == 3
    check_accessibility(page)
    shot(page, "board-urgent-laptop")

    page.locator("#queue-link-overdue").focus()
    page.evaluate(f"document.getElementById('urgent-{older[0].pk}').keptNode = true")
    newcomer = episode_for(team, coordinator, days=3, given_name="Lena")
    services.red_flag_raise(episode_id=newcomer.pk, sign="incontinence", by=coordinator)
    news = page.locator("#board-news")
    expect(news).to_contain_text(newcomer.patient.display_name, timeout=10_000)
    assert "New urgent episode" in news.inner_text()
    assert cauda.patient.display_name not in news.inner_text()  # only what is new
    expect(page.locator("#emergency-title + ol")).to_contain_text(newcomer.patient.display_name)
    assert active_id(page) == "queue-link-overdue"
    # Morphed, not redrawn: an unchanged row is the same element as before.
    assert page.evaluate(f"document.getElementById('urgent-{older[0].pk}').keptNode === true")
    expect(news).to_have_text("", timeout=10_000)  # the next check: nothing new to say
    assert active_id(page) == "queue-link-overdue"
    page.keyboard.press("Tab")
    assert active_id(page) == "queue-link-due_soon"


@pytest.mark.django_db(transaction=True)
def test_take_keeps_focus_in_its_row_and_asks_before_taking_from_a_colleague(
    new_page, live_server, team, coordinator, clinician
):
    free, held = routine_episodes(team, coordinator, 2)
    for episode in (free, held):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    services.episode_update(episode_id=held.pk, by=coordinator, fields={"assigned_to": clinician})
    page = new_page(SIZES["laptop"])
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/queues/urgent/")

    page.locator(f"#take-{free.pk}").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#who-{free.pk}")).to_contain_text(coordinator.username)
    focus_lands_on(page, f"assign-summary-{free.pk}")  # Take is gone: the row's Assign
    expect(page.locator("#row-news")).to_have_text(f"You have {free.patient.display_name} now.")
    assert Episode.objects.get(pk=free.pk).assigned_to == coordinator

    page.locator(f"#take-{held.pk}").focus()
    page.keyboard.press("Enter")
    question = page.locator(f"#confirm-{held.pk}")
    expect(question).to_have_text(f"{clinician.username} has this patient.")
    focus_lands_on(page, f"take-confirm-{held.pk}")
    assert Episode.objects.get(pk=held.pk).assigned_to == clinician  # nothing taken yet
    check_accessibility(page)
    shot(page, "queue-take-confirm-laptop")
    page.keyboard.press("Enter")
    expect(page.locator(f"#who-{held.pk}")).to_contain_text(coordinator.username)
    assert Episode.objects.get(pk=held.pk).assigned_to == coordinator
    focus_lands_on(page, f"assign-summary-{held.pk}")
    assert "/queues/urgent/" in page.url  # in place, no navigation

    page.keyboard.press("Enter")  # open Assign, choose a colleague, save: focus stays
    page.locator(f"#assign-{held.pk}").select_option(str(clinician.pk))
    page.locator(f"#assign-save-{held.pk}").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#who-{held.pk}")).to_have_text(clinician.username)
    focus_lands_on(page, f"assign-save-{held.pk}")
