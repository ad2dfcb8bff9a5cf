"""A red flag raised (by anyone) sends the care team an email at once, through dispatch."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core import mail
from kombu.exceptions import OperationalError

from episodes import services
from notifications.models import Reminder
from tests.clock import local
from tests.notifications.helpers import enroll, run_cycle

ONSET = date(2026, 3, 2)
RAISED = local(date(2026, 3, 5), 23, 30)  # late evening: quiet hours are the patient's only


def _raise(episode, by, **kwargs):
    with time_machine.travel(RAISED, tick=False):
        return services.red_flag_raise(
            episode_id=episode.pk, sign="saddle_anesthesia", by=by, **kwargs
        )


def test_the_alert_asks_for_a_dispatch_on_commit_and_goes_once(
    monkeypatch, patient, coordinator, django_capture_on_commit_callbacks
):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    asked: list[str] = []
    monkeypatch.setattr(
        "notifications.tasks.dispatch_due_reminders.apply_async",
        lambda **kwargs: asked.append(kwargs["queue"]),
    )

    with django_capture_on_commit_callbacks(execute=True):
        flag = _raise(episode, coordinator)

    assert asked == ["celery"]
    row = Reminder.objects.get(episode=episode, milestone=f"red_flag:{flag.pk}")
    assert (row.audience, row.channel, row.due_at) == ("care_team", "email", RAISED)

    # What the dispatch the task asked for does; twice, as beat would run it again.
    _, first = run_cycle(RAISED)
    _, second = run_cycle(RAISED.replace(minute=31))

    assert (first.sent, second.sent) == (1, 0)
    (alert,) = mail.outbox
    assert alert.to == [episode.care_team.email]
    assert alert.subject == f"URGENT: red flag on episode #{episode.pk} (RF-1)"
    assert "saddle_anesthesia" in alert.body
    assert "cauda equina syndrome" in alert.body
    assert patient.family_name not in alert.subject + alert.body
    assert patient.given_name not in alert.subject + alert.body
    assert alert.extra_headers["Message-ID"].startswith(f"<reminder-{row.pk}@")


def test_an_unreachable_broker_does_not_undo_the_red_flag(
    monkeypatch, patient, coordinator, django_capture_on_commit_callbacks, caplog
):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)

    def broker_down(**kwargs):
        msg = "Error 111 connecting to 127.0.0.1:6379. Connection refused."
        raise OperationalError(msg)

    monkeypatch.setattr("notifications.tasks.dispatch_due_reminders.apply_async", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        flag = _raise(episode, coordinator)

    assert Reminder.objects.filter(milestone=f"red_flag:{flag.pk}", status="scheduled").exists()
    assert "broker unreachable" in caplog.text
    # Beat's next cycle sends it.
    _, delivered = run_cycle(RAISED.replace(minute=31))
    assert delivered.sent == 1


def test_a_system_derived_flag_alerts_too(team, coordinator):
    from tests.factories import PatientFactory  # noqa: PLC0415

    older = PatientFactory(care_team=team, birth_date=date(1960, 1, 1))
    episode = enroll(older, coordinator, onset=ONSET, on=ONSET, new_onset_pain=True)

    _, delivered = run_cycle(local(ONSET, 10, 1))

    (alert,) = [m for m in mail.outbox if "URGENT" in m.subject]
    assert "(RF-3)" in alert.subject
    assert "raised by system" in alert.body
    assert delivered.sent == 1
    assert episode.state == "urgent_escalation"


@pytest.mark.parametrize("name", ["resolve", "close"])
def test_an_alert_for_a_closed_episode_is_cancelled(patient, coordinator, clinician, name):
    from notifications.delivery.batch import deliver_claimed  # noqa: PLC0415
    from tests.notifications.helpers import claim_only  # noqa: PLC0415

    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    flag = _raise(episode, coordinator)
    batches = claim_only(RAISED)
    with time_machine.travel(RAISED, tick=False):
        if name == "resolve":  # an episode with an active red flag is not resolved
            services.red_flag_rule_out(
                flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="examined"
            )
        services.episode_transition(
            episode_id=episode.pk, name=name, by=clinician, data={"reason": "other", "note": ""}
        )
        for ids, claim in batches:
            deliver_claimed(reminder_ids=ids, claim=claim)
    assert mail.outbox == []
