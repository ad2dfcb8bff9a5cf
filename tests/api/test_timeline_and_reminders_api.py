"""GET /api/episodes/{id}/timeline/ and /reminders/."""

from __future__ import annotations

from datetime import date

from episodes import services
from notifications.models import DeliveryAttempt, Reminder
from tests.clients import url
from tests.clock import at_day


def test_timeline_has_every_event_in_order(as_user, coordinator, clinician, episode):
    with at_day(3):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    with at_day(4):
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="examined"
        )
    with at_day(5):
        services.care_plan_item_add(episode_id=episode.pk, by=clinician, item="nsaid")
        services.imaging_record(episode_id=episode.pk, by=clinician, performed_on=date(2026, 10, 5))
    reminder = Reminder.objects.filter(episode=episode, milestone="2_weeks").first()
    with at_day(14):
        DeliveryAttempt.objects.create(
            reminder=reminder,
            attempt=1,
            channel="email",
            outcome="transient_error",
            error="timeout",
        )
    with at_day(20):
        response = as_user(coordinator).get(url(f"episodes/{episode.pk}/timeline/"))
    assert response.status_code == 200
    events = response.json()
    kinds = [e["kind"] for e in events]
    ats = [e["at"] for e in events]
    assert ats == sorted(ats)
    for kind in (
        "assessment",
        "reminder",
        "red_flag_raised",
        "transition",
        "red_flag_ruled_out",
        "care_plan_item",
        "imaging",
        "delivery_attempt",
    ):
        assert kind in kinds, kind
    escalation = next(e for e in events if e["kind"] == "transition")
    assert escalation["data"]["transition"] == "escalate"
    assert (escalation["data"]["from"], escalation["data"]["to"]) == (
        "conservative_care",
        "urgent_escalation",
    )
    assert escalation["source"] == "system"
    raised = next(e for e in events if e["kind"] == "red_flag_raised")
    assert raised["by"] == "coord-a"
    assert next(e for e in events if e["kind"] == "red_flag_ruled_out")["by"] == "clin-a"
    attempt = next(e for e in events if e["kind"] == "delivery_attempt")
    assert attempt["data"]["outcome"] == "transient_error"
    assert attempt["data"]["reminder"] == reminder.pk
    assert kinds.index("red_flag_raised") < kinds.index("red_flag_ruled_out")
    assert kinds.index("imaging") < kinds.index("delivery_attempt")


def test_transition_by_a_user_shows_who_and_the_body(as_user, coordinator, episode):
    client = as_user(coordinator)
    with at_day(9):
        client.post(
            url(f"episodes/{episode.pk}/transitions/close/"), {"reason": "withdrawn"}, format="json"
        )
        events = client.get(url(f"episodes/{episode.pk}/timeline/")).json()
    close = next(e for e in events if e["kind"] == "transition")
    assert close["by"] == "coord-a"
    assert close["data"]["body"] == {"reason": "withdrawn"}


def test_reminders_listed_with_their_status(as_user, coordinator, episode):
    response = as_user(coordinator).get(url(f"episodes/{episode.pk}/reminders/"))
    assert response.status_code == 200
    rows = response.json()
    assert {(r["milestone"], r["audience"]) for r in rows} == {
        (m, a) for m in ("2_weeks", "6_weeks", "3_months") for a in ("patient", "care_team")
    }
    first = rows[0]
    assert first["milestone"] == "2_weeks"
    assert first["status"] == "scheduled"
    assert first["attempts"] == 0
    assert first["sent_at"] is None
    assert first["delivery_status"] is None  # no attempt yet: the provider has said nothing
    assert first["due_at"].endswith("Z") or first["due_at"].endswith("+00:00")
