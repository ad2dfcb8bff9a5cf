"""The check-in page in a real headless Chromium (Debian's), driven by Playwright.

Opens a check-in link from a real reminder at phone width, reports saddle numbness,
submits, sees the confirmation; then the episode is in urgent escalation and the care
team's alert email has gone out through the dispatcher.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from episodes import services
from episodes.models import Episode
from notifications.checkins.tokens import checkin_token_for
from notifications.models import Reminder


@pytest.mark.django_db(transaction=True)
def test_patient_reports_saddle_numbness_from_a_phone(
    browser_page, live_server, patient, coordinator
):
    today = timezone.localdate()
    episode = services.episode_create(
        patient=patient,
        by=coordinator,
        symptom_onset=today - timedelta(days=15),
        radicular_pain=True,
    )
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    page = browser_page

    page.goto(f"{live_server.url}/check-in/{checkin_token_for(reminder)}/")
    assert page.get_by_role("alert").first.inner_text().startswith("Seek urgent care now")
    page.get_by_label("Worse", exact=True).check()
    page.get_by_label("No", exact=True).check()
    page.get_by_label("Numbness between your legs or around your bottom").check()
    shots = Path(settings.VAR_DIR) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "checkin-phone.png"), full_page=True)
    page.get_by_role("button", name="Send my answers").click()

    page.locator("#confirmation").wait_for()
    assert "your answers have reached your care team" in page.locator("#confirmation").inner_text()
    assert "needs urgent attention" in page.content()
    page.screenshot(path=str(shots / "checkin-phone-done.png"), full_page=True)

    episode = Episode.objects.get(pk=episode.pk)
    assert episode.state == "urgent_escalation"
    assert episode.red_flags.get().sign == "saddle_anesthesia"
    call_command("dispatch_reminders", stdout=open(os.devnull, "w"))  # noqa: PTH123, SIM115
    alerts = [m for m in mail.outbox if m.subject.startswith("URGENT: red flag")]
    assert len(alerts) == 1
    assert alerts[0].to == [patient.care_team.email]
    assert f"episode #{episode.pk} (RF-1)" in alerts[0].subject
    assert patient.family_name not in alerts[0].subject + alerts[0].body
