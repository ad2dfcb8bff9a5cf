"""Reading a patient's SMS reply in Chromium: the board, the queue in place, the episode page.

At a laptop's, a tablet's and a phone's size, each page passes axe-core (no serious or
critical violation) and "Mark as read" works without leaving the queue.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from notifications.models import PatientMessage
from notifications.providers.events import sms_inbound_record
from tests.chromium import check_accessibility, sign_in
from tests.factories import episode_for

SIZES = {
    "laptop": {"width": 1366, "height": 768},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}


def sms(episode, body: str) -> None:
    sms_inbound_record(
        token=uuid.uuid4().hex,
        message_sid=f"SM{uuid.uuid4().hex}",
        from_number=episode.patient.phone,
        body=body,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_a_reply_is_read_from_the_queue_in_place_and_shows_on_the_episode(
    new_page,
    live_server,
    team,
    coordinator,
    size,
):
    episode = episode_for(team, coordinator, days=20, given_name="Rosa", radicular_pain=True)
    sms(episode, "Can't feel my bottom since this morning, and both legs feel weak when I stand")
    sms(episode, "Should I go to A&E?")
    page = new_page(SIZES[size])

    sign_in(page, live_server, coordinator)
    card = page.locator('a[href="/queues/unread_replies/"]')
    expect(card).to_contain_text("1")
    expect(card).to_contain_text("Replies from patients to read")
    check_accessibility(page, f"replies-board-{size}")

    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    replies = page.locator("#replies")
    expect(replies).to_contain_text("2 replies from the patient to read")
    expect(replies).to_contain_text("Can't feel my bottom")
    assert "Reply: “Should I go to A&E?” — unread" in page.locator(".cf-timeline").inner_text()
    check_accessibility(page, f"replies-episode-unread-{size}")

    page.goto(f"{live_server.url}/")
    page.locator('a[href="/queues/unread_replies/"]').click()
    page.wait_for_url(re.compile(r"/queues/unread_replies/"))
    row = page.locator(f"#row-{episode.pk}")
    expect(row).to_contain_text("Can't feel my bottom")
    check_accessibility(page, f"replies-queue-{size}")
    row.get_by_role(
        "button", name=f"Mark as read reply from {episode.patient.display_name}"
    ).click()
    expect(page.locator(f"#row-{episode.pk}")).to_contain_text("Should I go to A&E?")
    assert "/queues/unread_replies/" in page.url  # swapped in place, no navigation
    page.locator(f"#row-{episode.pk}").get_by_role(
        "button", name=re.compile("Mark as read")
    ).click()
    expect(page.locator(f"#row-{episode.pk}")).to_contain_text("nothing else to read")
    check_accessibility(page)
    assert not PatientMessage.objects.filter(episode=episode, read_at__isnull=True).exists()

    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    timeline = page.locator(".cf-timeline").inner_text()
    assert f"Reply: “Should I go to A&E?” — read by {coordinator.username}" in timeline
    check_accessibility(page, f"replies-episode-{size}")
