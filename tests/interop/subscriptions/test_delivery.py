"""Delivery of one subscription: handshake, events in order, retries, access, heartbeats.

The task's body (``delivery.deliver``) runs here against a real HTTP endpoint on
127.0.0.1 (tests/interop/subscriptions/helpers.py); a real worker is in test_e2e.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from episodes import services
from episodes.models import CareTeamMembership
from interop.subscriptions.delivery import deliver, due_subscriptions
from interop.subscriptions.models import SubscriptionEvent
from interop.subscriptions.outbox import subscription_create
from tests.clock import at_day
from tests.interop.helpers import validate
from tests.interop.subscriptions.helpers import subscription_body

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"


def _subscribe(receiver, owner, content="id-only", topic="red-flag", **channel):
    return subscription_create(
        owner=owner, body=subscription_body(receiver.url, topic, content, **channel)
    )


def _raise(episode, by, sign="urinary_retention"):
    with at_day(20):
        return services.red_flag_raise(episode_id=episode.pk, sign=sign, by=by)


def _statuses(subscription):
    return list(
        SubscriptionEvent.objects.filter(subscription=subscription)
        .order_by("number")
        .values_list("number", "status", "attempts")
    )


def _later(seconds: float):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=True)


def test_handshake_then_the_event_as_a_notification_bundle(receiver, coordinator, episode):
    subscription = _subscribe(receiver, coordinator, content="full-resource")
    flag = _raise(episode, coordinator)
    assert deliver(subscription.pk) is None
    handshake, event = receiver.bodies()
    for body in (handshake, event):
        Bundle.model_validate(body)  # fhir.resources' R4B Bundle
        assert body["type"] == "history"
        assert body["meta"]["profile"] == [f"{BACKPORT}/backport-subscription-notification"]
        status = body["entry"][0]["resource"]
        validate(status)
        assert status["resourceType"] == "SubscriptionStatus"
        assert status["subscription"]["reference"].endswith(f"/fhir/Subscription/{subscription.pk}")
        assert status["topic"] == "https://careflow.example.org/fhir/SubscriptionTopic/red-flag"
    assert handshake["entry"][0]["resource"]["type"] == "handshake"
    status = event["entry"][0]["resource"]
    assert (status["type"], status["status"], status["eventsSinceSubscriptionStart"]) == (
        "event-notification",
        "active",
        "1",
    )
    (notified,) = status["notificationEvent"]
    assert notified["eventNumber"] == "1"
    assert notified["focus"]["reference"].endswith(f"/fhir/Flag/{flag.pk}")
    sent = event["entry"][1]["resource"]
    validate(sent)
    assert (sent["resourceType"], sent["id"], sent["status"]) == ("Flag", str(flag.pk), "active")
    assert _statuses(subscription) == [(1, "sent", 1)]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.failures) == ("active", 0)


def test_id_only_carries_the_reference_not_the_resource(receiver, coordinator, episode):
    subscription = _subscribe(receiver, coordinator)
    flag = _raise(episode, coordinator)
    deliver(subscription.pk)
    event = receiver.bodies("event-notification")[0]
    focus = event["entry"][1]
    assert "resource" not in focus
    assert focus["fullUrl"].endswith(f"/fhir/Flag/{flag.pk}")


def test_a_failure_is_retried_after_a_backoff_and_order_is_kept(
    receiver, coordinator, episode, settings
):
    settings.CAREFLOW_SUBSCRIPTION_RETRY_BASE_SECONDS = 10
    subscription = _subscribe(receiver, coordinator)
    first = _raise(episode, coordinator, "saddle_anesthesia")
    second = _raise(episode, coordinator, "fever")
    receiver.answers = [200, 503]  # the handshake goes, the first event meets a 503
    assert deliver(subscription.pk) == 10
    assert _statuses(subscription) == [(1, "pending", 1), (2, "pending", 0)]
    # Waiting: nothing goes before the retry time, not even the second event.
    assert deliver(subscription.pk) is None
    assert len(receiver.received) == 2
    receiver.answers = [502]
    with _later(11):
        assert deliver(subscription.pk) == 20  # twice the wait after a second failure
    with _later(11 + 21):
        assert deliver(subscription.pk) is None
    foci = [
        b["entry"][0]["resource"]["notificationEvent"][0]["focus"]["reference"]
        for b in receiver.bodies("event-notification")
    ]
    assert [f.rsplit("/", 1)[1] for f in foci] == [str(first.pk), str(second.pk)]
    assert _statuses(subscription) == [(1, "sent", 3), (2, "sent", 1)]
    event = SubscriptionEvent.objects.get(subscription=subscription, number=1)
    assert event.last_error == ""


def test_three_failures_in_a_row_read_error_until_one_succeeds(receiver, coordinator, episode):
    subscription = _subscribe(receiver, coordinator)
    _raise(episode, coordinator)
    receiver.answers = [200, 500, 500, 500]
    deliver(subscription.pk)
    for wait in (3600, 7200):
        with _later(wait):
            deliver(subscription.pk)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.failures) == ("error", 3)
    assert "answered 500" in subscription.error
    with _later(20000):
        deliver(subscription.pk)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.failures, subscription.error) == ("active", 0, "")


def test_a_timeout_is_retried(receiver, coordinator, episode):
    subscription = _subscribe(
        receiver,
        coordinator,
        extension=[{"url": f"{BACKPORT}/backport-timeout", "valueUnsignedInt": 1}],
    )
    deliver(subscription.pk)  # the handshake
    _raise(episode, coordinator)
    receiver.delay = 2
    assert deliver(subscription.pk) == 10
    (event,) = SubscriptionEvent.objects.filter(subscription=subscription)
    assert (event.status, event.attempts) == ("pending", 1)
    assert "no answer" in event.last_error


def test_a_refusal_is_not_retried_and_the_next_event_goes(receiver, coordinator, episode):
    subscription = _subscribe(receiver, coordinator)
    _raise(episode, coordinator, "saddle_anesthesia")
    _raise(episode, coordinator, "fever")
    receiver.answers = [200, 400]
    assert deliver(subscription.pk) is None
    assert _statuses(subscription) == [(1, "failed", 1), (2, "sent", 1)]
    assert SubscriptionEvent.objects.get(number=1).last_error.endswith("answered 400")


def test_a_subscriber_who_left_the_team_hears_nothing_more(receiver, coordinator, episode):
    subscription = _subscribe(receiver, coordinator)
    deliver(subscription.pk)
    _raise(episode, coordinator)
    CareTeamMembership.objects.filter(user=coordinator).delete()
    deliver(subscription.pk)
    assert receiver.bodies("event-notification") == []
    assert _statuses(subscription) == [(1, "skipped", 0)]


def test_heartbeats_when_nothing_else_was_sent(receiver, coordinator):
    subscription = _subscribe(
        receiver,
        coordinator,
        extension=[{"url": f"{BACKPORT}/backport-heartbeat-period", "valueUnsignedInt": 60}],
    )
    deliver(subscription.pk)
    deliver(subscription.pk)
    assert len(receiver.bodies()) == 1  # the handshake; no heartbeat due yet
    with _later(61):
        deliver(subscription.pk)
    (heartbeat,) = receiver.bodies("heartbeat")
    Bundle.model_validate(heartbeat)
    assert heartbeat["entry"][0]["resource"]["eventsSinceSubscriptionStart"] == "0"


def test_an_endpoint_no_longer_allowed_is_not_sent_to(receiver, coordinator, episode, settings):
    subscription = _subscribe(receiver, coordinator)
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = []
    assert deliver(subscription.pk) == 10
    assert receiver.received == []
    subscription.refresh_from_db()
    assert "https" in subscription.error


def test_headers_are_sent(receiver, coordinator):
    subscription = _subscribe(receiver, coordinator, header=["Authorization: Bearer ehr-secret"])
    deliver(subscription.pk)
    (request,) = receiver.received
    assert request["headers"]["Authorization"] == "Bearer ehr-secret"
    assert request["headers"]["Content-Type"] == "application/fhir+json"


@pytest.mark.parametrize("content", ["empty"])
def test_empty_content_names_no_focus(receiver, coordinator, episode, content):
    subscription = _subscribe(receiver, coordinator, content=content)
    _raise(episode, coordinator)
    deliver(subscription.pk)
    (event,) = receiver.bodies("event-notification")
    assert len(event["entry"]) == 1
    assert "focus" not in event["entry"][0]["resource"]["notificationEvent"][0]


def test_beats_sweep_finds_what_is_due(receiver, coordinator, episode):
    quiet = _subscribe(receiver, coordinator)
    beating = _subscribe(
        receiver,
        coordinator,
        extension=[{"url": f"{BACKPORT}/backport-heartbeat-period", "valueUnsignedInt": 60}],
    )
    assert set(due_subscriptions()) == {quiet.pk, beating.pk}  # their handshakes
    deliver(quiet.pk)
    deliver(beating.pk)
    assert due_subscriptions() == []
    _raise(episode, coordinator)
    receiver.answers = [503]
    deliver(quiet.pk)  # the flag's event meets a 503
    deliver(beating.pk)  # and goes to the other
    assert due_subscriptions() == []  # one waiting for its retry, the other's beat not due
    with _later(11):
        assert due_subscriptions() == [quiet.pk]
    with _later(61):
        assert set(due_subscriptions()) == {quiet.pk, beating.pk}
