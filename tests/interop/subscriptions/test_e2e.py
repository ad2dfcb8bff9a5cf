"""End to end: an EHR subscribes with fhirpy and hears of a red flag within seconds.

Everything real: the facade on a live server, a Celery worker process on Redis (its own
queue), the test database, and the EHR's endpoint, an HTTP server on 127.0.0.1
(tests/interop/subscriptions/helpers.py). Nothing but the write asks for the delivery:
the worker is told on commit.
"""

from __future__ import annotations

import time
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhirpy import SyncFHIRClient
from knox.models import AuthToken

from episodes import services
from tests.factories import episode_for
from tests.interop.subscriptions.helpers import subscription_body

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = 5  # "within seconds": the notification's latency after the write commits


@pytest.fixture
def worker(settings, celery_worker_factory, live_server):
    queue = f"pytest-subscriptions-{uuid.uuid4().hex[:8]}"
    settings.CAREFLOW_SUBSCRIPTION_QUEUE = queue
    settings.CAREFLOW_PUBLIC_BASE_URL = live_server.url
    return celery_worker_factory(
        queue=queue,
        extra_env={
            "CAREFLOW_SUBSCRIPTION_QUEUE": queue,
            "CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS": "127.0.0.1",
            "CAREFLOW_PUBLIC_BASE_URL": live_server.url,
        },
    )


@pytest.fixture
def theirs(other_team, other_coordinator):
    """Another team's episode and its coordinator: flags the subscription never hears of."""
    episode = episode_for(
        other_team, other_coordinator, days=20, radicular_pain=True, given_name="Bo"
    )
    return episode, other_coordinator


@pytest.mark.usefixtures("worker")
def test_an_ehr_hears_of_a_red_flag_within_seconds(
    receiver, live_server, team, coordinator, theirs
):
    _, token = AuthToken.objects.create(user=coordinator)
    ehr = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")
    body = subscription_body(receiver.url, "red-flag", "full-resource")
    fields = {k: v for k, v in body.items() if k != "resourceType"}
    subscription = ehr.resource("Subscription", **fields)
    subscription.save()
    assert subscription.id
    assert subscription["status"] == "requested"
    receiver.wait_for(1, "handshake")
    assert ehr.reference("Subscription", subscription.id).to_resource()["status"] == "active"

    ours = episode_for(team, coordinator, days=20, radicular_pain=True)
    their_episode, their_coordinator = theirs
    services.red_flag_raise(episode_id=their_episode.pk, sign="fever", by=their_coordinator)
    raised = time.monotonic()
    flag = services.red_flag_raise(episode_id=ours.pk, sign="urinary_retention", by=coordinator)
    (notification,) = receiver.wait_for(1, "event-notification", timeout=SECONDS)
    latency = next(r["at"] for r in receiver.received if r["body"] is notification) - raised
    assert latency < SECONDS

    Bundle.model_validate(notification)  # fhir.resources' R4B Bundle, its entries too
    status, focus = (e["resource"] for e in notification["entry"])
    assert status["resourceType"] == "SubscriptionStatus"
    assert status["eventsSinceSubscriptionStart"] == "1"
    assert status["notificationEvent"][0]["focus"]["reference"] == (
        f"{live_server.url}/fhir/Flag/{flag.pk}"
    )
    assert (focus["resourceType"], focus["id"]) == ("Flag", str(flag.pk))
    # The EHR follows the reference with its own client and reads the same flag.
    assert ehr.reference("Flag", flag.pk).to_resource()["code"] == focus["code"]

    # A second flag is the second event; the other team's was never one.
    second = services.red_flag_raise(episode_id=ours.pk, sign="saddle_anesthesia", by=coordinator)
    receiver.wait_for(2, "event-notification", timeout=SECONDS)
    events = [
        b["entry"][0]["resource"]["notificationEvent"][0]
        for b in receiver.bodies("event-notification")
    ]
    assert [e["eventNumber"] for e in events] == ["1", "2"]
    assert events[1]["focus"]["reference"].endswith(f"/Flag/{second.pk}")
    time.sleep(1)
    assert len(receiver.bodies("event-notification")) == 2
    print(f"red flag to EHR: {latency * 1000:.0f} ms")  # noqa: T201 - the measured figure
