"""A patient's red-flag report in the workspace: first on the episode page, reviewed there."""

from __future__ import annotations

from django.test import Client

from episodes import services
from episodes.models import RedFlagReport
from notifications import services as notifications_services
from notifications.models import Reminder
from tests.clock import at_day
from tests.factories import new_episode


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _closed_with_a_report(patient, coordinator):
    episode = new_episode(patient, coordinator)
    with at_day(10):
        services.episode_transition(
            episode_id=episode.pk, name="close", by=coordinator, data={"reason": "transferred"}
        )
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    with at_day(14):
        notifications_services.checkin_submit(
            reminder_id=reminder.pk,
            overall="worse",
            disabling_pain=False,
            symptoms=["saddle_numbness"],
        )
    return episode, RedFlagReport.objects.get(episode=episode)


def test_the_report_heads_the_episode_page_and_the_urgent_queue(patient, coordinator):
    episode, _ = _closed_with_a_report(patient, coordinator)
    browser = _login(coordinator)
    with at_day(14):
        page = browser.get(f"/episodes/{episode.pk}/").content.decode()
        queue = browser.get("/queues/urgent/").content.decode()
        board = browser.get("/").content.decode()
    # In the banner, in words and with its age, before the work.
    assert page.index("Reported by the patient: Saddle anaesthesia") < page.index("What to do next")
    assert "RF-1 cauda equina syndrome" in page
    assert "decide whether to open a new one" in page
    assert f'href="/episodes/{episode.pk}/"' in queue
    assert "Patient report to review: RF-1 cauda equina syndrome" in queue
    assert "red-flag symptom reported by the patient, to review" in board


def test_only_a_clinician_reviews_it_with_a_note(patient, coordinator, clinician):
    episode, report = _closed_with_a_report(patient, coordinator)
    path = f"/episodes/{episode.pk}/red-flag-reports/{report.pk}/review/"
    with at_day(15):
        refused = _login(coordinator).post(path, {"note": "called"})
        empty = _login(clinician).post(path, {"note": ""})
    assert refused.status_code == 403
    assert empty.status_code == 400
    report.refresh_from_db()
    assert report.reviewed_at is None
    with at_day(15):
        done = _login(clinician).post(path, {"note": "new episode opened"})
    assert done.status_code == 302
    report.refresh_from_db()
    assert (report.reviewed_by, report.review_note) == (clinician, "new episode opened")
    with at_day(15):
        page = _login(clinician).get(f"/episodes/{episode.pk}/").content.decode()
    assert 'id="reports-title"' not in page
    assert "Red-flag report reviewed" in page  # on the timeline
