"""Patients' SMS replies in the workspace: counted on the board, read from a queue or an episode.

The queue page shows each episode's oldest unread reply with "Mark as read" (htmx in
place, a plain POST without JavaScript, CSRF either way); the episode page lists the
unread replies and its timeline says which were read, and by whom.
"""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from django.test import Client

from notifications.models import PatientMessage
from notifications.providers.events import sms_inbound_record
from tests.clock import at_day

HTMX = {"HX-Request": "true"}


def sms(episode, body: str) -> PatientMessage:
    sid = f"SM{uuid.uuid4().hex}"
    sms_inbound_record(
        token=uuid.uuid4().hex, message_sid=sid, from_number=episode.patient.phone, body=body
    )
    return PatientMessage.objects.get(episode=episode, provider_message_id=sid)


def browser(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def text(response) -> str:
    return unescape(response.content.decode())


def read_url(episode, reply) -> str:
    return f"/episodes/{episode.pk}/replies/{reply.pk}/read/"


@pytest.fixture
def replied(episode):
    with at_day(3):
        first = sms(episode, "Can't feel my bottom")
    with at_day(4):
        second = sms(episode, "Also my left foot")
    return episode, first, second


def test_the_board_counts_unread_replies(coordinator, replied):
    board = text(browser(coordinator).get("/"))

    card = re.search(
        r'href="/queues/unread_replies/"><span class="cf-queue-card__count">(\d+)', board
    )
    assert card is not None
    assert card.group(1) == "1"
    assert "Replies from patients to read" in board


def test_the_queue_shows_the_oldest_unread_reply_with_a_mark_as_read_button(coordinator, replied):
    episode, first, _ = replied
    page = text(browser(coordinator).get("/queues/unread_replies/"))

    assert "Reply to read" in page
    assert "“Can't feel my bottom”" in page
    assert "Also my left foot" not in page  # the oldest unread one first
    form = re.search(
        r'<form method="post" action="([^"]+)" hx-post="\1"[^>]*>(.*?)</form>', page, re.DOTALL
    )
    assert form is not None
    assert form.group(1) == read_url(episode, first)
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert 'name="queue" value="unread_replies"' in form.group(2)
    assert "Mark as read" in form.group(2)


def test_mark_as_read_in_place_shows_the_next_reply_then_says_nothing_is_left(coordinator, replied):
    episode, first, second = replied
    client = browser(coordinator)
    data = {"queue": "unread_replies", "next": "/queues/unread_replies/"}

    row = client.post(read_url(episode, first), data, headers=HTMX)
    assert row.status_code == 200
    assert text(row).startswith(f'<tr class="nhsuk-table__row" id="row-{episode.pk}"')
    assert "Also my left foot" in text(row)
    assert read_url(episode, second) in text(row)

    last = client.post(read_url(episode, second), data, headers=HTMX)
    assert "nothing else to read" in text(last)
    assert 'role="status"' in text(last)
    assert "There are no patients in this queue." in text(client.get("/queues/unread_replies/"))
    assert {m.read_by for m in PatientMessage.objects.filter(episode=episode)} == {coordinator}


def test_without_javascript_mark_as_read_posts_and_comes_back(coordinator, replied):
    episode, first, second = replied
    client = browser(coordinator)

    back = client.post(read_url(episode, first), {"next": "/queues/unread_replies/"})
    elsewhere = client.post(read_url(episode, second), {"next": "https://evil.example/"})

    assert (back.status_code, back["Location"]) == (302, "/queues/unread_replies/")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"] == f"/episodes/{episode.pk}/?done=reply_read#replies"
    assert not PatientMessage.objects.filter(episode=episode, read_at__isnull=True).exists()


def test_mark_as_read_needs_the_csrf_token_and_the_episodes_team(
    coordinator, other_coordinator, replied
):
    episode, first, _ = replied

    forged = browser(coordinator, enforce_csrf_checks=True).post(read_url(episode, first))
    other = browser(other_coordinator).post(read_url(episode, first))

    assert forged.status_code == 403
    assert other.status_code == 404
    assert PatientMessage.objects.get(pk=first.pk).read_at is None


def test_take_in_the_replies_queue_keeps_the_reply_in_the_row(coordinator, replied):
    episode, first, _ = replied

    row = browser(coordinator).post(
        f"/episodes/{episode.pk}/assign/",
        {"assigned_to": "me", "queue": "unread_replies", "next": "/queues/unread_replies/"},
        headers=HTMX,
    )

    assert row.status_code == 200
    assert "Can't feel my bottom" in text(row)
    assert read_url(episode, first) in text(row)


def test_the_episode_page_lists_unread_replies_and_the_timeline_says_who_read_them(
    coordinator, replied
):
    episode, first, _ = replied
    client = browser(coordinator)

    before = text(client.get(f"/episodes/{episode.pk}/"))
    assert "2 replies from the patient to read" in before
    assert before.count(f'action="{read_url(episode, first)}"') == 2  # the list, the timeline

    client.post(read_url(episode, first))
    after = text(client.get(f"/episodes/{episode.pk}/?done=reply_read"))
    assert "1 reply from the patient to read" in after
    assert "Reply: “Can't feel my bottom” — read by coord-a at " in after
    assert "Reply: “Also my left foot” — unread" in after
