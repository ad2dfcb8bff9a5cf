"""The episode page's banner: why it is urgent, in words and with its age, and the patient's time.

Every active red flag is in the banner while it is active, after the urgent referral too;
a patient's red-flag report waiting for review is there as well. The local time is the
patient's, not the server's (UTC), and says so; so do the timeline's times.
"""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from episodes import services
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode
from tests.workspace.helpers import signed_in, words


def banner(page: str) -> str:
    return page[page.index("Why it is urgent") : page.index("Who has it:")]


def test_the_banner_names_every_active_flag_with_its_age(coordinator, episode):
    with at_day(5) as traveller:
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
        traveller.shift(3 * 3600)
        services.red_flag_raise(episode_id=episode.pk, sign="iv_drug_use", by=coordinator)
        traveller.shift(3600)
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
    why = banner(page)
    assert "Red flag: Saddle anaesthesia — RF-1 cauda equina syndrome, raised 4 hours ago" in why
    assert "Red flag: IV drug use — RF-4 suspected infection, raised 1 hour ago" in why
    assert "Urgent" in page[: page.index("Why it is urgent")]


def test_no_flag_no_urgency_in_the_banner(coordinator, episode):
    with at_day(5):
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
    assert "Why it is urgent" not in page
    assert "Red flag:" not in page


def test_the_banner_keeps_an_active_flag_after_the_referral(coordinator, episode):
    with at_day(5) as traveller:
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        traveller.shift(1800)
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "immediate"},
        )
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
    why = banner(page)
    assert "Red flag: Fever — RF-4 suspected infection" in why
    assert "An urgent referral was made on 2026-10-06: waiting on specialist care." in why


def test_the_banner_ends_when_the_flag_is_ruled_out(coordinator, clinician, episode):
    with at_day(5):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="viral, settled"
        )
        services.episode_transition(episode_id=episode.pk, name="clear_escalation", by=clinician)
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
    assert "Why it is urgent" not in page


def test_a_patients_report_waiting_for_review_is_in_the_banner(coordinator, episode):
    from notifications import services as notifications  # noqa: PLC0415
    from notifications.models import Reminder  # noqa: PLC0415

    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
    with at_day(14):
        notifications.checkin_submit(
            reminder_id=reminder.pk,
            overall="worse",
            disabling_pain=False,
            symptoms=["saddle_numbness"],
        )
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
    assert "Reported by the patient: Saddle anaesthesia — RF-1 cauda equina syndrome" in banner(
        page
    )
    assert "waiting for a clinician's review" in banner(page)


def test_the_local_time_is_the_patients(coordinator, team):
    new_york = new_episode(PatientFactory(care_team=team), coordinator)
    london = new_episode(PatientFactory(care_team=team, timezone="Europe/London"), coordinator)
    client = signed_in(coordinator)
    # 04:49 UTC on 27 November is 23:49 on the 26th in New York (EST) and 04:49 in London.
    with time_machine.travel(datetime(2026, 11, 27, 4, 49, tzinfo=UTC), tick=False):
        ny_page = words(client.get(f"/episodes/{new_york.pk}/"))
        london_page = words(client.get(f"/episodes/{london.pk}/"))
    assert "Patient's local time 23:49 (America/New_York)" in ny_page
    assert "04:49" not in ny_page[: ny_page.index("Who has it:")]
    assert "today is 2026-11-26 for them" in ny_page
    assert "Patient's local time 04:49 (Europe/London)" in london_page
    assert "today is 2026-11-27 for them" in london_page


def test_timeline_times_are_the_patients_and_say_so(coordinator, episode):
    # Raised at 10:00 New York time (15:00 UTC in October, EDT).
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
    assert "Times are the patient's local time (America/New_York)." in page
    assert "2026-10-06 10:00 Red flag Red flag raised: Fever (RF-4)" in page
    assert "15:00" not in page
