"""What the CapabilityStatement says of Subscription and SubscriptionTopic (the backport IG).

``interop.capability`` asks here for these two types' entries; the topics are advertised
with the IG's ``capabilitystatement-subscriptiontopic-canonical`` extension.
"""

from __future__ import annotations

from typing import Any, Final

from interop.subscriptions.resources import (
    EXT_TOPIC_CANONICAL,
    PROFILE_SUBSCRIPTION,
    STATUS_OPERATION,
)
from interop.subscriptions.topics import TOPICS

SUBSCRIPTION_TYPES: Final = ("Subscription", "SubscriptionTopic")


def subscription_entry(resource_type: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry ``interop.capability`` built (read, search), with what these types add."""
    if resource_type == "SubscriptionTopic":
        entry["documentation"] = "The topics a Subscription's criteria may name."
        return entry
    entry["interaction"] = [
        {"code": "create"},
        *entry["interaction"],
        {
            "code": "delete",
            "documentation": "by its owner; If-Match (the ETag a read gives) is honoured: "
            "412 when the subscription has changed since",
        },
    ]
    entry["versioning"] = "versioned"
    entry["supportedProfile"] = [PROFILE_SUBSCRIPTION]
    entry["extension"] = [
        {"url": EXT_TOPIC_CANONICAL, "valueCanonical": topic.url} for topic in TOPICS.values()
    ]
    entry["operation"] = [
        {
            "name": "status",
            "definition": STATUS_OPERATION,
            "documentation": "Subscription/{id}/$status: its status and event count",
        }
    ]
    entry["documentation"] = (
        "Topic-based subscriptions (Subscriptions R5 Backport IG, R4B): criteria is a "
        "SubscriptionTopic's canonical URL; channel.type rest-hook to an https endpoint "
        "with public addresses (or a configured allowed host); payload application/fhir+json, "
        "content empty, id-only (the default) or full-resource (backport-payload-content); "
        "backport-heartbeat-period and backport-timeout honoured. A subscription hears its "
        "owner's care teams only, and is read and deleted by its owner only. Notifications "
        "are history Bundles whose first entry is a SubscriptionStatus, one event each, in "
        "order, retried with backoff while the endpoint fails."
    )
    return entry
