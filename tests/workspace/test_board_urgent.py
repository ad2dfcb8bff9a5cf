"""The board lists every urgent episode nobody has acted on, most urgent first, in words.

PATHWAY.md "Order of the urgent queue": RF-1 and RF-2 before RF-3, RF-4 and RF-5 (a group
of their own, with a heading in words), the longest waiting first within each; each row
says which flag and how long ago it was raised. Episodes acted on (careflow.urgency's
ranks 2 and 3) are counted, not listed. The board asked again says only what is new.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from episodes import services
from episodes.models import CareTeamMembership, Episode
from tests.clock import at_day, moment
from tests.factories import PatientFactory, UserFactory, new_episode
from tests.workspace.helpers import section

HTMX = {"HX-Request": "true"}


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def flagged(team, coordinator, day: int, sign: str, name: str) -> Episode:
    episode = new_episode(PatientFactory(care_team=team, given_name=name), coordinator)
    with at_day(day):
        services.red_flag_raise(episode_id=episode.pk, sign=sign, by=coordinator)
    return Episode.objects.get(pk=episode.pk)


@pytest.fixture
def fourteen(team, coordinator):
    """Thirteen RF-3/RF-4 flags raised over two weeks, then today's cauda equina."""
    older = [
        flagged(team, coordinator, day, "fever" if day % 2 else "history_of_cancer", f"Old{day}")
        for day in range(1, 14)
    ]
    cauda = flagged(team, coordinator, 14, "saddle_anesthesia", "Cauda")
    return older, cauda


def test_every_urgent_episode_not_acted_on_is_listed_rf1_apart_and_first(coordinator, fourteen):
    older, cauda = fourteen
    with at_day(14) as traveller:
        traveller.shift(timedelta(hours=3))
        html = client_of(coordinator).get("/").content.decode()
    emergency = html[html.index('id="emergency-title"') : html.index('id="others-title"')]
    others = html[html.index('id="others-title"') : html.index("</section>")]
    assert "Emergency: RF-1 cauda equina syndrome or RF-2 progressive motor deficit" in emergency
    assert "Other red flags: RF-3 suspected malignancy, RF-4 suspected infection" in others
    assert cauda.patient.display_name in emergency
    assert (
        "<strong>Saddle anaesthesia</strong> (RF-1 cauda equina syndrome), raised 3 hours ago"
        in (emergency)
    )
    assert "14 not yet acted on" in html
    # Every other one, the longest waiting first.
    positions = [others.index(f"{e.patient.display_name}</a>") for e in older]
    assert positions == sorted(positions)
    assert "(RF-4 suspected infection), raised 13 days ago" in others
    assert "(RF-3 suspected malignancy), raised 12 days ago" in others


def test_episodes_acted_on_are_counted_not_listed(coordinator, team):
    waiting = flagged(team, coordinator, 2, "fever", "Waiting")
    acted = flagged(team, coordinator, 1, "fever", "Acted")
    # An urgent referral since the flag, a patient's report still to review: rank 3.
    Episode.objects.filter(pk=acted.pk).update(urgent_rank=3)
    with at_day(3):
        html = client_of(coordinator).get("/").content.decode()
    assert "2 urgent episodes" in html
    assert "1 not yet acted on" in html
    assert "1 more acted on and waiting on specialist care" in html
    assert waiting.patient.display_name in html
    assert acted.patient.display_name not in html


def test_asked_again_the_board_says_only_what_is_new(coordinator, team):
    flagged(team, coordinator, 1, "fever", "Before")
    with at_day(2):
        since = timezone.now()
    newer = flagged(team, coordinator, 3, "incontinence", "After")
    client = client_of(coordinator)
    with at_day(3):
        asked = client.get("/", {"since": since.isoformat()}, headers=HTMX).content.decode()
        later = client.get("/", {"since": moment(3).isoformat()}, headers=HTMX).content.decode()
        bad = client.get("/", {"since": "yesterday"}, headers=HTMX)
        first = client.get("/").content.decode()
    news = asked[
        asked.index('id="board-news"') : asked.index("</div>", asked.index('id="board-news"'))
    ]
    assert "New urgent episode: After" in news
    assert "RF-1 cauda equina syndrome" in news
    assert "Before" not in news
    assert 'role="status"></div>' in later  # nothing new since then: nothing said
    assert bad.status_code == 200
    assert 'role="status"></div>' in bad.content.decode()
    assert 'role="status"></div>' in first  # a page drawn afresh announces nothing
    assert "<html" not in asked
    assert 'hx-swap="morph:outerHTML"' in first
    assert newer.patient.display_name in first


@pytest.mark.parametrize("n", [2, 30])
def test_the_board_costs_the_same_few_queries(coordinator, team, n, django_assert_max_num_queries):
    for day in range(n):
        flagged(team, coordinator, 1 + day % 10, "fever", f"Many{day}")
    client = client_of(coordinator)
    # Session, user, counts, team ids, the urgent rows, the team's members, access records,
    # the team's time zone.
    with at_day(12), django_assert_max_num_queries(8):
        html = client.get("/", headers=HTMX).content.decode()
    assert html.count('class="cf-urgent__item"') == n


def test_the_boards_clock_is_the_care_teams_and_says_so(coordinator, team, other_team):
    team.timezone = "America/New_York"
    team.save()
    with at_day(12):
        html = client_of(coordinator).get("/").content.decode()
        there = timezone.localtime(timezone.now(), ZoneInfo("America/New_York"))
    assert f"Counts as of {there:%H:%M:%S} (America/New_York time)." in html
    # The other way: a user of teams in two zones reads the server's clock, named.
    other_team.timezone = "Asia/Tokyo"
    other_team.save()
    CareTeamMembership.objects.create(team=other_team, user=coordinator, role="coordinator")
    with at_day(12):
        html = client_of(coordinator).get("/").content.decode()
    assert f"({settings.TIME_ZONE} time)." in html


def test_a_queue_card_beyond_the_boards_count_says_plus(coordinator, team, monkeypatch):
    monkeypatch.setattr("workspace.views.board.BOARD_COUNT_UP_TO", 2)
    for day in range(3):
        flagged(team, coordinator, 1 + day, "fever", f"Plus{day}")
    with at_day(12):
        html = client_of(coordinator).get("/").content.decode()
    unassigned = section(html, "queue-card-unassigned")
    assert (
        '<span class="nhsuk-u-visually-hidden">more than </span>2<span aria-hidden="true">+</span>'
        in unassigned
    )
    assert "3 urgent episodes" in html  # the urgent queue is counted whole
    # The other way: a queue within the count is counted exactly.
    assert '<span class="cf-queue-card__count">0</span>' in section(html, "queue-card-mine")


def test_the_urgent_list_can_be_skipped_to_the_other_queues(coordinator, team):
    """A keyboard reaches the queue cards past a long urgent list in one step."""
    flagged(team, coordinator, 2, "fever", "Skip")
    with at_day(12):
        html = client_of(coordinator).get("/").content.decode()
    assert '<a href="#queue-cards" id="skip-to-queues">' in html
    assert '<ul class="cf-queues" id="queue-cards" tabindex="-1"' in html
    # The other way: with nothing urgent listed there is nothing to skip.
    with at_day(12):
        quiet = client_of(UserFactory(username="quiet-one")).get("/").content.decode()
    assert "skip-to-queues" not in quiet
