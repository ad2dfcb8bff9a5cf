"""A queue page as a worklist: its total and its page, other orders, its states, Take.

"page 2 of 2"; sorted by days since onset or of care; the state filter offers only the
states the queue can hold; a failed reminder says which and why; Take asks before taking a
colleague's patient; a fixed number of queries whatever the queue holds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from episodes import services
from episodes.models import Episode
from notifications.models import Reminder
from tests.clock import ONSET, at_day
from tests.factories import PatientFactory, ReminderFactory, bulk_episodes, new_episode

HTMX = {"HX-Request": "true"}


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr class="nhsuk-table__row[^"]*" id="row-(\d+)"', html)]


def next_link(html: str, rel: str = "next") -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return unescape(found.group(1)) if found else None


def test_a_queue_says_its_total_and_which_page_of_how_many(coordinator, team):
    bulk_episodes(team, coordinator, 60)  # 30 of them unassigned
    client = client_of(coordinator)
    first = client.get("/queues/unassigned/").content.decode()
    assert first.count("30 episodes, page 1 of 2") == 2  # above the rows and below them
    second = client.get(next_link(first)).content.decode()
    assert "30 episodes, page 2 of 2" in second
    assert len(row_ids(first)) == 25
    assert len(row_ids(second)) == 5
    back = client.get(next_link(second, "prev")).content.decode()
    assert "page 1 of 2" in back
    forged = client.get(next_link(first).replace("page=2", "page=99")).content.decode()
    assert "30 episodes</p>" in forged  # a page number that cannot be is left out
    mine = client.get("/queues/unassigned/", {"show": "mine"}).content.decode()
    assert "0 episodes" in mine
    assert "No patients in this queue match these filters." in mine


def test_a_queue_larger_than_it_counts_says_more_than(coordinator, team, monkeypatch):
    """Counted up to COUNT_UP_TO, in the page's order: "More than 20 episodes, page 2"."""
    monkeypatch.setattr("workspace.views.queue.COUNT_UP_TO", 20)
    bulk_episodes(team, coordinator, 60)  # 30 of them unassigned
    client = client_of(coordinator)
    first = client.get("/queues/unassigned/").content.decode()
    assert first.count("More than 20 episodes, page 1</p>") == 2
    second = client.get(next_link(first)).content.decode()
    assert "More than 20 episodes, page 2</p>" in second
    assert len(row_ids(second)) == 5  # every row is still there
    # The other way: a queue no larger than the count is counted exactly.
    monkeypatch.setattr("workspace.views.queue.COUNT_UP_TO", 30)
    exact = client.get("/queues/unassigned/").content.decode()
    assert "30 episodes, page 1 of 2" in exact


def test_a_queue_sorts_by_days_since_onset_and_of_care_page_by_page(coordinator, team):
    episodes = [new_episode(PatientFactory(care_team=team), coordinator) for _ in range(4)]
    # Onsets spread over the calendar, not in id order: the longest since onset first.
    for days, episode in zip((20, 40, 10, 30), episodes, strict=True):
        Episode.objects.filter(pk=episode.pk).update(symptom_onset=ONSET - timedelta(days=days))
    client = client_of(coordinator)
    with at_day(12):
        by_queue = row_ids(client.get("/queues/unassigned/").content.decode())
        by_onset = []
        path = "/queues/unassigned/?sort=onset&page_size=1"
        while path:
            html = client.get(path).content.decode()
            by_onset.extend(row_ids(html))
            path = next_link(html)
        unknown = row_ids(client.get("/queues/unassigned/", {"sort": "name"}).content.decode())
        sorted_page = client.get("/queues/unassigned/", {"sort": "care"}).content.decode()
    assert by_onset == [episodes[i].pk for i in (1, 3, 0, 2)]
    assert by_queue == [e.pk for e in episodes]
    assert unknown == by_queue  # an order it does not know: the queue's own
    assert 'aria-sort="descending">Days of conservative care' in sorted_page
    assert '<option value="care" selected>' in sorted_page


def test_the_state_filter_offers_only_the_states_its_queue_can_hold(coordinator, team):
    client = client_of(coordinator)
    mine = client.get("/queues/mine/").content.decode()
    overdue = client.get("/queues/overdue/").content.decode()
    urgent = client.get("/queues/urgent/").content.decode()
    one_state = client.get("/queues/esi/").content.decode()
    assert '<option value="conservative_care">' in mine
    assert '<option value="surgery">' in mine
    assert '<option value="closed">' not in mine
    assert '<option value="resolved">' not in mine
    assert '<option value="specialist_referral">' not in overdue  # no deadline after referral
    assert '<option value="esi">' in overdue
    # A patient's red-flag report keeps even a closed episode in the urgent queue.
    assert '<option value="closed">' in urgent
    assert 'id="filter-state"' not in one_state


def test_a_failed_reminder_says_which_and_why(coordinator, team, episode):
    Reminder.objects.filter(episode=episode, milestone="6_weeks", audience="patient").update(
        channel="sms",
        status="failed",
        status_reason="gave up after 5 attempts",
        last_error="21610: the number has opted out",
    )
    ReminderFactory(
        episode=episode, milestone="red_flag:9", audience="care_team", status="skipped",
        status_reason="stale: more than 7 days late",
    )  # fmt: skip
    # Another alert's words: a reminder's words are worked out once a process by its kind.
    ReminderFactory(
        episode=episode, milestone="red_flag:report:4", audience="care_team", status="failed",
        status_reason="permanent error",
    )  # fmt: skip
    client = client_of(coordinator)
    with at_day(3):
        html = unescape(client.get("/queues/delivery_failures/").content.decode())
        other = client.get("/queues/unassigned/").content.decode()
    assert "Reminder that did not go" in html
    assert (
        'Failed:</strong> 6-week reassessment to the patient by SMS <span class="cf-small">'
        "(why: gave up after 5 attempts; 21610: the number has opted out)" in html
    )
    assert "Skipped:</strong> Alert: a red flag was raised to the care team by email" in html
    assert "(why: stale: more than 7 days late)" in html
    assert (
        "Failed:</strong> Alert: a red-flag symptom the patient reported to the care team"
        " by email" in html
    )
    assert "Reminder that did not go" not in other
    assert Reminder.objects.filter(episode=episode, status="failed").count() == 2


def test_take_asks_before_taking_a_colleagues_patient(coordinator, clinician, episode):
    services.episode_update(
        episode_id=episode.pk, by=coordinator, fields={"assigned_to": clinician}
    )
    client = client_of(coordinator)
    url = reverse("workspace:assign", args=[episode.pk])
    data = {"assigned_to": "me", "queue": "unassigned", "next": "/queues/mine/"}

    asked = client.post(url, data, headers=HTMX).content.decode()
    assert f'id="confirm-{episode.pk}">{clinician.username} has this patient.</span>' in asked
    assert f'id="take-confirm-{episode.pk}" autofocus>Take from {clinician.username}' in asked
    assert Episode.objects.get(pk=episode.pk).assigned_to == clinician
    cancelled = client.post(url, {**data, "cancel": "yes"}, headers=HTMX)
    assert cancelled.status_code == 200
    assert Episode.objects.get(pk=episode.pk).assigned_to == clinician

    page = client.post(url, data)  # without JavaScript: a page asks
    assert page.status_code == 200
    assert f"Take {episode.patient.display_name} from {clinician.username}?" in unescape(
        page.content.decode()
    )
    assert Episode.objects.get(pk=episode.pk).assigned_to == clinician

    taken = client.post(url, {**data, "confirm": "yes"})
    assert (taken.status_code, taken["Location"]) == (302, "/queues/mine/")
    assert Episode.objects.get(pk=episode.pk).assigned_to == coordinator
    # Nobody's, or already yours: taken at once, no question.
    client.post(url, {"assigned_to": ""}, headers=HTMX)
    plain = client.post(url, {"assigned_to": "me", "next": "https://evil.example/"})
    assert plain["Location"] == f"/episodes/{episode.pk}/"  # only this site's pages
    for elsewhere in ("javascript:alert(1)", "//evil.example/", "https:evil.example"):
        answer = client.post(url, {"assigned_to": "me", "next": elsewhere})
        assert answer["Location"] == f"/episodes/{episode.pk}/", elsewhere
    assert Episode.objects.get(pk=episode.pk).assigned_to == coordinator


QUEUE_PAGES = ["urgent", "overdue", "delivery_failures", "unread_replies", "mine", "unassigned"]


@pytest.mark.parametrize("n", [10, 200])
def test_every_queue_page_costs_the_same_few_queries(
    coordinator, team, n, django_assert_max_num_queries
):
    bulk_episodes(team, coordinator, n)
    client = client_of(coordinator)
    for name in QUEUE_PAGES:
        for sort in ("", "onset"):
            # Session, user, team ids, the page, its total, the team's members, access records.
            with django_assert_max_num_queries(7):
                response = client.get(f"/queues/{name}/", {"sort": sort})
            assert response.status_code == 200
            assert row_ids(response.content.decode()), name
