"""The Reminder admin shows the schedule of record and its attempts, and changes nothing."""

from __future__ import annotations

from episodes import services
from episodes.selectors import patient_today


def test_reminders_are_listed_and_read_only(client, superuser, patient, coordinator):
    episode = services.episode_create(
        patient=patient, by=coordinator, symptom_onset=patient_today(patient)
    )
    reminder = episode.reminders.first()
    client.force_login(superuser)
    listing = client.get("/admin/notifications/reminder/?status=scheduled")
    assert listing.status_code == 200
    assert f">{reminder.pk}<" in listing.content.decode()
    page = client.get(f"/admin/notifications/reminder/{reminder.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    client.post(f"/admin/notifications/reminder/{reminder.pk}/change/", {"status": "sent"})
    reminder.refresh_from_db()
    assert reminder.status == "scheduled"
    assert client.get("/admin/notifications/reminder/add/").status_code == 403


def test_sms_matched_to_no_care_team_are_listed_for_operations(client, superuser, db):
    from notifications.models import PatientMessage  # noqa: PLC0415

    kept = PatientMessage.objects.create(
        episode=None,
        provider_message_id="SM" + "a" * 32,
        kind="reply",
        body="Who is this?",
        from_number="+15557654321",
    )
    client.force_login(superuser)
    listing = client.get("/admin/notifications/patientmessage/?episode__isempty=1")
    assert listing.status_code == 200
    assert f">{kept.pk}<" in listing.content.decode()
    assert client.get(f"/admin/notifications/patientmessage/{kept.pk}/change/").status_code == 200
    assert client.get("/admin/notifications/patientmessage/add/").status_code == 403
