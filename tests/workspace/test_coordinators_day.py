"""A coordinator's day in Debian's headless Chromium, at a laptop's, a tablet's and a phone's size.

The tasks a coordinator does most, each from where they start, counted in clicks and
keystrokes. Today's cauda-equina case arrives while the board is open: the refresh shows
it first among thirteen older urgent episodes without moving focus. Then: find a patient
no queue holds (a closed episode) by date of birth from the header; open the cauda-equina
case from the board and read why it is urgent; take it; refer it (only "immediate" is
offered); log a call; correct the onset with a reason; read the patient's reply. Every
page passes axe-core (no serious or critical violation) and none scrolls sideways. Each
task's count is bounded, so a change that adds a step to one of them fails here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from episodes import services
from episodes.models import Episode
from notifications.models import PatientMessage
from notifications.providers.events import sms_inbound_record
from tests.chromium import check_accessibility, sign_in
from tests.factories import PatientFactory, episode_for, new_episode
from tests.workspace.helpers import SIZES

OTHER_SIGNS = ("history_of_cancer", "fever", "osteoporosis", "iv_drug_use")


@dataclass
class Effort:
    """Clicks and keystrokes a person spends on each task, counted as the test acts."""

    clicks: int = 0
    keys: int = 0
    tasks: dict[str, tuple[int, int]] = field(default_factory=dict)

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()

    def type(self, locator, text: str) -> None:
        self.clicks += 1  # into the field
        self.keys += len(text)
        locator.fill(text)

    def press(self, locator, key: str) -> None:
        self.keys += 1
        locator.press(key)

    def done(self, task: str, most_clicks: int, most_keys: int) -> None:
        self.tasks[task] = (self.clicks, self.keys)
        assert self.clicks <= most_clicks, (task, self.clicks)
        assert self.keys <= most_keys, (task, self.keys)
        self.clicks = self.keys = 0


def fits(page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth"), (name, width)
    check_accessibility(page, name)


def a_team_day(team, coordinator, clinician) -> Episode:
    """Thirteen older urgent episodes and a patient with only a closed episode."""
    for n in range(13):
        older = episode_for(
            team,
            coordinator,
            days=30 + n,
            given_name=f"Older{n}",
            patient__phone=f"+1555010{n:04d}",
        )
        services.red_flag_raise(
            episode_id=older.pk, sign=OTHER_SIGNS[n % len(OTHER_SIGNS)], by=coordinator
        )
    born = PatientFactory(
        care_team=team, given_name="José", family_name="Peña", birth_date=date(1977, 9, 26),
        phone="+15550208888", timezone="UTC",
    )  # fmt: skip
    closed = new_episode(born, coordinator, day=0)
    services.episode_transition(
        episode_id=closed.pk, name="close", by=clinician, data={"reason": "transferred"}
    )
    return closed


def active_id(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_a_coordinators_day_from_the_top_of_each_page(  # noqa: PLR0915, PLR0917 - fixtures; one day, in order
    new_page, live_server, settings, team, coordinator, clinician, size
):
    settings.WORKSPACE_BOARD_POLL_SECONDS = 1
    closed = a_team_day(team, coordinator, clinician)
    page = new_page(SIZES[size])
    effort = Effort()
    sign_in(page, live_server, coordinator)
    fits(page, f"day-board-{size}")

    # Today's cauda equina arrives while the board is open: the refresh shows it, first,
    # and the coordinator's focus stays where it was.
    page.locator("#queue-link-overdue").focus()
    cauda = episode_for(
        team, coordinator, days=10, given_name="Kai", radicular_pain=True,
        patient__phone="+15550209999",
    )  # fmt: skip
    services.red_flag_raise(episode_id=cauda.pk, sign="saddle_anesthesia", by=coordinator)
    expect(page.locator("#board-news")).to_contain_text(cauda.patient.display_name, timeout=10_000)
    assert active_id(page) == "queue-link-overdue"

    # Find a patient no queue holds, by date of birth, from the header.
    search = page.get_by_role("searchbox", name="Find a patient")
    effort.type(search, "26/09/1977")
    effort.press(search, "Enter")
    page.wait_for_url(re.compile(r"/search/$"))
    expect(page.locator("main")).to_contain_text("1 patient matches")
    fits(page, f"day-search-{size}")
    effort.click(page.get_by_role("link", name="Closed"))
    page.wait_for_url(re.compile(rf"/episodes/{closed.pk}/$"))
    expect(page.locator("#patient-name")).to_have_text("José Peña")
    effort.done("find a closed patient by birth date", most_clicks=2, most_keys=11)

    # Today's cauda equina comes first on the board, apart from the other flags.
    effort.click(page.get_by_role("link", name="Queues").first)
    emergency = page.locator("#emergency-title + ol > li")
    expect(emergency.first).to_contain_text(cauda.patient.display_name)
    assert "Saddle anaesthesia" in emergency.first.inner_text()
    effort.click(emergency.first.get_by_role("link", name=cauda.patient.display_name))
    page.wait_for_url(re.compile(rf"/episodes/{cauda.pk}/"))
    why = page.locator("#why")
    expect(why).to_contain_text("Red flag: Saddle anaesthesia — RF-1 cauda equina syndrome")
    fits(page, f"day-episode-urgent-{size}")
    effort.done("open the newest cauda-equina case and read why", most_clicks=2, most_keys=0)

    effort.click(page.locator(".cf-owner").get_by_role("button", name="Take"))
    expect(page.locator(".cf-owner__who")).to_contain_text("(you)")
    effort.done("take it", most_clicks=1, most_keys=0)
    assert Episode.objects.get(pk=cauda.pk).assigned_to_id == coordinator.pk

    refer = page.locator("#form-t-refer_to_specialist")
    effort.click(refer.locator("summary"))
    urgencies = refer.locator('input[name="urgency"]')
    assert urgencies.count() == 1
    expect(urgencies.first).to_be_checked()
    assert urgencies.first.get_attribute("value") == "immediate"
    effort.click(refer.get_by_role("button"))
    page.wait_for_url(re.compile(r"done="))
    referred = Episode.objects.get(pk=cauda.pk)
    assert referred.state == "specialist_referral"
    # After the referral the banner still says why: the flag stays until a clinician rules it out.
    expect(page.locator("#why")).to_contain_text("Saddle anaesthesia")
    fits(page, f"day-episode-referred-{size}")
    effort.done("refer it", most_clicks=2, most_keys=0)

    outreach = page.locator("#form-outreach")
    effort.click(outreach.get_by_label("Call made, spoke to the patient"))
    effort.type(outreach.get_by_label("Note"), "Told to go to A&E now")
    effort.click(outreach.get_by_role("button", name="Log it"))
    page.wait_for_url(re.compile(r"done="))
    expect(page.locator(".cf-timeline")).to_contain_text("Told to go to A&E now")
    effort.done("log a call", most_clicks=3, most_keys=25)

    onset = timezone.localdate() - timedelta(days=12)
    dates = page.locator("#form-dates")
    effort.click(dates.locator("summary"))
    for part, value in (("day", onset.day), ("month", onset.month), ("year", onset.year)):
        effort.type(page.locator(f"#dates-symptom_onset-{part}"), str(value))
    effort.type(page.locator("#dates-reason"), "GP letter")
    effort.click(dates.get_by_role("button", name="Correct the dates"))
    page.wait_for_url(re.compile(r"done="))
    assert Episode.objects.get(pk=cauda.pk).symptom_onset == onset
    expect(page.locator(".cf-timeline")).to_contain_text("GP letter")
    effort.done("correct the onset with a reason", most_clicks=6, most_keys=18)

    # The patient texts back; the reply is read from the episode page.
    sms_inbound_record(
        token=uuid.uuid4().hex,
        message_sid=f"SM{uuid.uuid4().hex}",
        from_number=cauda.patient.phone,
        body="On my way to A&E",
    )
    page.reload()
    expect(page.locator("#replies")).to_contain_text("On my way to A&E")
    fits(page, f"day-episode-reply-{size}")
    effort.click(page.get_by_role("button", name=re.compile("^Mark as read")).first)
    expect(page.locator(".cf-timeline")).not_to_contain_text("— unread")
    assert not PatientMessage.objects.filter(episode=cauda, read_at__isnull=True).exists()
    effort.done("read a reply", most_clicks=1, most_keys=0)
    print(size, effort.tasks)  # noqa: T201 - the figures for the issue's note, with -s
