"""The topics a client may subscribe to, as R4B SubscriptionTopic resources.

Both are about one care team's episodes: a subscription hears only its own teams' events
(``Subscription.team_ids``). Ids and canonical URLs are fixed; ``key`` is what a
subscription row stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from careflow.rules import PATHWAY_VERSION
from interop import codes

Resource = dict[str, Any]

BACKPORT: Final = "http://hl7.org/fhir/uv/subscriptions-backport"


@dataclass(frozen=True, slots=True)
class Topic:
    key: str  # Subscription.topic
    id: str  # SubscriptionTopic.id
    title: str
    description: str
    resource: str  # the focus's type
    interactions: tuple[str, ...]
    trigger: str

    @property
    def url(self) -> str:
        return f"{codes.BASE}/SubscriptionTopic/{self.id}"


RED_FLAG: Final = Topic(
    key="red-flag",
    id="red-flag",
    title="A red flag raised in a care team",
    description=(
        "A red flag (cauda equina, progressive deficit, malignancy, infection, fracture) was "
        "raised on an episode of one of the subscriber's care teams: by a clinician, from the "
        "patient's check-in, or derived by careflow. The focus is the new Flag."
    ),
    resource="Flag",
    interactions=("create",),
    trigger="A Flag is created (careflow's red_flag_raised event).",
)
TASK_CHANGED: Final = Topic(
    key="task-changed",
    id="task-changed",
    title="A Task of a care team changed",
    description=(
        "A write to an episode of one of the subscriber's care teams changed its Tasks "
        "(careflow's next actions): one opened, one that was open is no longer asked for "
        "(completed, or cancelled with the episode), or one's due date, rule or priority "
        "changed. One event per Task; the focus is the Task as it reads now. A Task whose "
        "priority turns urgent only because its due date passed, with no write, is not an "
        "event. The first write of an episode the topic sees reports every open Task."
    ),
    resource="Task",
    interactions=("create", "update", "delete"),
    trigger="A write to the episode changed its next actions.",
)
TOPICS: Final = {topic.key: topic for topic in (RED_FLAG, TASK_CHANGED)}
BY_URL: Final = {topic.url: topic for topic in TOPICS.values()}
BY_ID: Final = {topic.id: topic for topic in TOPICS.values()}


def topic_resource(topic: Topic) -> Resource:
    return {
        "resourceType": "SubscriptionTopic",
        "id": topic.id,
        "url": topic.url,
        "version": PATHWAY_VERSION,
        "title": topic.title,
        "status": "active",
        "publisher": "Careflow",
        "description": topic.description,
        "resourceTrigger": [
            {
                "description": topic.trigger,
                "resource": f"http://hl7.org/fhir/StructureDefinition/{topic.resource}",
                "supportedInteraction": list(topic.interactions),
            }
        ],
        "notificationShape": [{"resource": topic.resource}],
    }
