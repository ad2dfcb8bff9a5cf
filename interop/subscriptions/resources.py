"""Subscription, SubscriptionStatus and notification Bundles as R4B JSON (the backport IG).

https://hl7.org/fhir/uv/subscriptions-backport/ (STU 1.1, FHIR 4.3.0): a Subscription's
``criteria`` is its topic's canonical URL, the payload's content an extension on
``channel.payload``; a notification is a Bundle of type ``history`` (the IG's R4B profile
fixes it) whose first entry is a SubscriptionStatus, each entry with the ``request`` and
``response`` a history Bundle needs (bdl-3, bdl-4).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from django.conf import settings
from django.utils import timezone

from interop import codes
from interop.resources import instant, versioned
from interop.subscriptions.models import Subscription
from interop.subscriptions.topics import BACKPORT, TOPICS

Resource = dict[str, Any]

PROFILE_SUBSCRIPTION: Final = f"{BACKPORT}/StructureDefinition/backport-subscription"
PROFILE_NOTIFICATION: Final = f"{BACKPORT}/StructureDefinition/backport-subscription-notification"
EXT_CONTENT: Final = f"{BACKPORT}/StructureDefinition/backport-payload-content"
EXT_HEARTBEAT: Final = f"{BACKPORT}/StructureDefinition/backport-heartbeat-period"
EXT_TIMEOUT: Final = f"{BACKPORT}/StructureDefinition/backport-timeout"
EXT_TOPIC_CANONICAL: Final = (
    f"{BACKPORT}/StructureDefinition/capabilitystatement-subscriptiontopic-canonical"
)
STATUS_OPERATION: Final = f"{BACKPORT}/OperationDefinition/backport-subscription-status"


def fhir_base() -> str:
    """The facade's absolute base, for references a notification carries (no request then)."""
    return f"{settings.CAREFLOW_PUBLIC_BASE_URL.rstrip('/')}/fhir/"


def subscription_resource(subscription: Subscription) -> Resource:
    """The Subscription as its client reads it; ``channel.header`` values are not echoed.

    ``meta.versionId`` is a digest of what is served (its status and error included), the
    ETag a client's ``If-Match`` names when it deletes it.
    """
    channel: Resource = {
        "extension": [{"url": EXT_TIMEOUT, "valueUnsignedInt": subscription.timeout_seconds}],
        "type": "rest-hook",
        "endpoint": subscription.endpoint,
        "payload": codes.FHIR_JSON,
        "_payload": {"extension": [{"url": EXT_CONTENT, "valueCode": subscription.content}]},
    }
    if subscription.heartbeat_seconds:
        channel["extension"].append(
            {"url": EXT_HEARTBEAT, "valueUnsignedInt": subscription.heartbeat_seconds}
        )
    resource: Resource = {
        "resourceType": "Subscription",
        "id": str(subscription.pk),
        "meta": {
            "profile": [PROFILE_SUBSCRIPTION],
            "lastUpdated": instant(subscription.updated_at),
        },
        "status": subscription.status,
        "reason": subscription.reason,
        "criteria": TOPICS[subscription.topic].url,
        "channel": channel,
    }
    if subscription.ends_at is not None:
        resource["end"] = instant(subscription.ends_at)
    if subscription.error:
        resource["error"] = subscription.error
    return versioned(resource)


def status_resource(
    subscription: Subscription,
    kind: str,
    events: Sequence[tuple[int, datetime, str | None]] = (),
) -> Resource:
    """SubscriptionStatus: ``kind`` handshake, heartbeat, event-notification or query-status.

    ``events``: (number, when, focus reference or None). R4B types the counters as strings.
    """
    resource: Resource = {
        "resourceType": "SubscriptionStatus",
        "id": str(uuid.uuid4()),
        "status": subscription.status,
        "type": kind,
        "eventsSinceSubscriptionStart": str(subscription.event_count),
        "subscription": {"reference": f"{fhir_base()}Subscription/{subscription.pk}"},
        "topic": TOPICS[subscription.topic].url,
    }
    notified = []
    for number, when, focus in events:
        event: Resource = {"eventNumber": str(number), "timestamp": instant(when)}
        if focus is not None:
            event["focus"] = {"reference": f"{fhir_base()}{focus}"}
        notified.append(event)
    if notified:
        resource["notificationEvent"] = notified
    if subscription.error and kind == "query-status":
        resource["error"] = [{"text": subscription.error}]
    return resource


def notification_bundle(
    subscription: Subscription,
    kind: str,
    events: Sequence[tuple[int, datetime, str]] = (),
    resources: dict[str, Resource | None] | None = None,
) -> Resource:
    """A notification: the status first, then one entry a focus (its resource if full)."""
    status = status_resource(
        subscription,
        kind,
        [
            (n, when, None if subscription.content == "empty" else focus)
            for n, when, focus in events
        ],
    )
    entries: list[Resource] = [
        {
            "fullUrl": f"urn:uuid:{status['id']}",
            "resource": status,
            "request": {
                "method": "GET",
                "url": f"{fhir_base()}Subscription/{subscription.pk}/$status",
            },
            "response": {"status": "200"},
        }
    ]
    if subscription.content != "empty":
        for _number, _when, focus in events:
            entry: Resource = {
                "fullUrl": f"{fhir_base()}{focus}",
                "request": {"method": "PUT", "url": focus},
                "response": {"status": "200"},
            }
            found = (resources or {}).get(focus)
            if found is not None:
                entry["resource"] = found
            entries.append(entry)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [PROFILE_NOTIFICATION]},
        "type": "history",
        "timestamp": instant(timezone.now()),
        "entry": entries,
    }


def status_bundle(request_url: str, subscription: Subscription) -> Resource:
    """``$status``: a searchset of the one SubscriptionStatus (type query-status)."""
    status = status_resource(subscription, "query-status")
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "link": [{"relation": "self", "url": request_url}],
        "entry": [
            {
                "fullUrl": f"urn:uuid:{status['id']}",
                "resource": status,
                "search": {"mode": "match"},
            }
        ],
    }
