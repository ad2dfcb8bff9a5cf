"""A real day in the workspace, in Debian's headless Chromium driven by Playwright.

Each page visited is checked with axe-core (axe-playwright-python injects it with
``page.evaluate``, so a strict Content-Security-Policy would not stop it): no serious or
critical violation. Set CAREFLOW_SCREENSHOTS=<folder> to keep a screenshot of each page
(`make screenshots` does, into docs/).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from episodes import services
from episodes.models import Episode
from notifications.checkins.tokens import checkin_token_for
from notifications.models import Reminder
from tests.chromium import check_accessibility, sign_in
from tests.factories import episode_for


@pytest.mark.django_db(transaction=True)
def test_coordinator_sees_cauda_equina_first_and_makes_the_immediate_referral(
    new_page, live_server, team, coordinator, clinician
):
    routine = episode_for(team, coordinator, days=20, given_name="Ben", radicular_pain=True)
    urgent = episode_for(team, coordinator, days=4, given_name="Femi")
    services.red_flag_raise(episode_id=urgent.pk, sign="saddle_anesthesia", by=coordinator)
    page = new_page()

    sign_in(page, live_server, coordinator)
    urgent_section = page.locator("section.cf-urgent")
    assert "1 urgent episode" in urgent_section.inner_text()
    first = urgent_section.get_by_role("listitem").first
    assert urgent.patient.display_name in first.inner_text()
    assert "RF-1" in first.inner_text()
    assert routine.patient.display_name not in urgent_section.inner_text()
    check_accessibility(page, "board")

    page.get_by_role("link", name="1 urgent episode").click()
    page.wait_for_url(re.compile(r"/queues/urgent/"))
    assert urgent.patient.display_name in page.locator("tbody").inner_text()
    check_accessibility(page, "queue")

    page.get_by_role("link", name=urgent.patient.display_name).click()
    page.wait_for_url(re.compile(rf"/episodes/{urgent.pk}/"))
    assert "Urgent escalation" in page.locator(".cf-banner").inner_text()
    assert page.locator('#pathway [data-state="urgent_escalation"]').count() == 1
    assert "current state" in page.locator("#pathway").text_content()
    check_accessibility(page, "episode")

    form = page.locator("#form-t-refer_to_specialist")
    form.locator("summary").click()
    form.get_by_label("Immediate").check()
    form.get_by_role("button", name="Refer to a specialist").click()
    page.wait_for_url(re.compile(r"done=refer_to_specialist"))
    assert "Saved." in page.locator("[role=status]").inner_text()
    assert "Specialist referral" in page.locator(".cf-banner").inner_text()
    check_accessibility(page)
    referral = Episode.objects.get(pk=urgent.pk).referrals.get()
    assert referral.urgency == "immediate"


@pytest.mark.django_db(transaction=True)
def test_a_routine_referral_for_cauda_equina_is_not_offered(
    new_page, live_server, team, coordinator
):
    urgent = episode_for(team, coordinator, days=4, given_name="Femi")
    services.red_flag_raise(episode_id=urgent.pk, sign="saddle_anesthesia", by=coordinator)
    page = new_page()
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/episodes/{urgent.pk}/")
    form = page.locator("#form-t-refer_to_specialist")
    form.locator("summary").click()
    assert form.get_by_label("Routine").count() == 0
    assert form.get_by_label("Within 2 weeks").count() == 0
    expect(form.get_by_label("Immediate")).to_be_checked()
    assert "RF-1 cauda equina syndrome" in form.inner_text()
    assert Episode.objects.get(pk=urgent.pk).state == "urgent_escalation"


@pytest.mark.django_db(transaction=True)
def test_clinician_rules_out_a_false_alarm_and_clears_the_escalation(
    new_page, live_server, team, coordinator, clinician
):
    episode = episode_for(team, coordinator, days=12, radicular_pain=True)
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    page = new_page()
    sign_in(page, live_server, clinician)
    page.goto(f"{live_server.url}/episodes/{episode.pk}/")

    flag = page.locator(".cf-flag--active")
    flag.locator("summary").click()
    flag.get_by_label("Note").fill("Temperature normal on review; viral illness, settled.")
    flag.get_by_role("button", name="Rule out this red flag").click()
    page.wait_for_url(re.compile(r"done=red_flag_ruled_out"))
    assert page.locator(".cf-flag--active").count() == 0
    check_accessibility(page)

    clear = page.locator("#form-t-clear_escalation")
    clear.locator("summary").click()
    clear.get_by_label("Note").fill("False alarm: no red flag remains.")
    clear.get_by_role("button", name="Clear the escalation").click()
    page.wait_for_url(re.compile(r"done=clear_escalation"))
    assert "Conservative care" in page.locator(".cf-banner").inner_text()
    timeline = page.locator(".cf-timeline").inner_text()
    assert "Red flag ruled out: Fever — Temperature normal on review" in timeline
    assert "Clear the escalation: Urgent escalation → Conservative care" in timeline
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"


@pytest.mark.django_db(transaction=True)
def test_a_blocked_imaging_transition_shows_cc1_with_its_opening_date(
    new_page, live_server, team, coordinator
):
    episode = episode_for(
        team, coordinator, days=10, radicular_pain=True, conservative_therapy_failed=True
    )
    opens = (timezone.localdate() + timedelta(days=32)).isoformat()
    page = new_page()
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    page.locator(".cf-blocked summary").click()  # the steps not possible now, and why
    blocked = page.locator("#form-t-confirm_imaging_eligibility")
    text = blocked.inner_text()
    assert "Blocked" in text
    assert "CC-1" in text
    assert f"opens on {opens}" in text
    assert blocked.get_by_role("button").count() == 0
    check_accessibility(page)


@pytest.mark.django_db(transaction=True)
def test_an_enrolment_lands_on_the_new_episode_with_its_reminders(
    new_page, live_server, team, coordinator
):
    page = new_page()
    sign_in(page, live_server, coordinator)
    page.get_by_role("link", name="Enrol a patient").click()
    page.wait_for_url(re.compile(r"/enrol/"))
    check_accessibility(page, "enrol")
    page.get_by_role("button", name="Enrol").click()  # empty: every required field named
    assert page.locator(".nhsuk-error-summary").is_visible()
    assert "Enter the patient's given name" in page.locator(".nhsuk-error-summary").inner_text()
    check_accessibility(page)

    page.get_by_label("Given name").fill("Iris")
    page.get_by_label("Family name").fill("Walker")
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("14")
    birth.get_by_label("Month").fill("3")
    birth.get_by_label("Year").fill("1979")
    page.get_by_label("Email address").fill("iris@example.org")
    page.get_by_label("Time zone").select_option("Europe/London")
    onset = timezone.localdate() - timedelta(days=3)
    began = page.get_by_role("group", name="Date the symptoms began")
    began.get_by_label("Day").fill(str(onset.day))
    began.get_by_label("Month").fill(str(onset.month))
    began.get_by_label("Year").fill(str(onset.year))
    page.get_by_label("Radicular (leg) pain").check()
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(re.compile(r"/episodes/\d+/\?done=enrolled"))
    assert "Iris Walker" in page.locator(".cf-banner").inner_text()
    reminders = page.locator("#reminders-title + table").inner_text()
    assert "2-week check-in" in reminders
    assert "6-week reassessment" in reminders
    assert "3-month follow-up" in reminders
    check_accessibility(page)


@pytest.mark.django_db(transaction=True)
def test_a_patients_check_in_answer_shows_on_the_timeline(new_page, live_server, team, coordinator):
    episode = episode_for(team, coordinator, days=15, radicular_pain=True)
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    phone = new_page({"width": 390, "height": 844})
    phone.goto(f"{live_server.url}/check-in/{checkin_token_for(reminder)}/")
    phone.get_by_label("Better", exact=True).check()
    phone.get_by_label("No", exact=True).check()
    phone.get_by_role("button", name="Send my answers").click()
    phone.locator("#confirmation").wait_for()

    page = new_page()
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    timeline = page.locator(".cf-timeline").inner_text()
    assert "Check-in from the patient: overall better; disabling pain: no" in timeline


@pytest.mark.django_db(transaction=True)
def test_take_in_place_and_new_urgent_work_appears_without_a_reload(
    new_page, live_server, settings, team, coordinator
):
    settings.WORKSPACE_BOARD_POLL_SECONDS = 1
    episode = episode_for(team, coordinator, days=20, given_name="Cleo", radicular_pain=True)
    page = new_page()
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/queues/unassigned/")
    row = page.locator(f"#row-{episode.pk}")
    row.get_by_role("button", name=f"Take {episode.patient.display_name}").click()
    expect(page.locator(f"#row-{episode.pk} .cf-assignee")).to_have_text(coordinator.username)
    assert "/queues/unassigned/" in page.url  # swapped in place, no navigation
    assert Episode.objects.get(pk=episode.pk).assigned_to == coordinator

    page.goto(f"{live_server.url}/")
    assert "0 urgent episodes" in page.locator("section.cf-urgent").inner_text()
    services.red_flag_raise(episode_id=episode.pk, sign="incontinence", by=coordinator)
    page.locator("section.cf-urgent").get_by_text(episode.patient.display_name).wait_for(
        timeout=10_000
    )
    assert "1 urgent episode" in page.locator("section.cf-urgent").inner_text()


@pytest.mark.django_db(transaction=True)
def test_another_teams_coordinator_gets_a_404(
    new_page, live_server, team, coordinator, other_coordinator
):
    episode = episode_for(team, coordinator, days=5)
    page = new_page()
    sign_in(page, live_server, other_coordinator)
    response = page.goto(f"{live_server.url}/episodes/{episode.pk}/")
    assert response.status == 404
    assert episode.patient.family_name not in page.content()


@pytest.mark.django_db(transaction=True)
def test_the_adherence_report_reads_and_links_to_its_episodes(
    new_page, live_server, team, coordinator, clinician
):
    urgent = episode_for(team, coordinator, days=4, given_name="Femi")
    services.red_flag_raise(episode_id=urgent.pk, sign="saddle_anesthesia", by=coordinator)
    services.episode_transition(
        episode_id=urgent.pk,
        name="refer_to_specialist",
        by=clinician,
        data={"urgency": "immediate"},
    )
    episode_for(team, coordinator, days=50, given_name="Ben", radicular_pain=True)
    page = new_page()
    sign_in(page, live_server, coordinator)
    page.get_by_role("link", name="Adherence report").click()
    page.wait_for_url(re.compile(r"/reports/adherence/"))
    expect(page.get_by_role("heading", name="Referral timeliness")).to_be_visible()
    assert page.locator("svg.cf-chart").count() == 4  # on time by rule and by month, answers, flow
    check_accessibility(page, "report")

    page.get_by_role("link", name="2 episodes").click()
    page.wait_for_url(re.compile(r"/reports/adherence/episodes/"))
    assert urgent.patient.display_name in page.locator("tbody").inner_text()
    check_accessibility(page)
