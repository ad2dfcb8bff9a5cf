"""The subscriptions' writes: events recorded with the change, subscriptions made and ended.

The event rows are the outbox. They are written by episodes' own writes (``receivers``
hears ``red_flag_raised`` and ``episode_changed``, sent inside the writer's transaction), so
an event exists exactly when its change committed, and a notification is only ever asked
for (on commit) about something that happened. Delivery reads them: ``delivery.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from careflow.deadlines import next_actions
from careflow.states import State
from episodes.selectors import patient_today
from episodes.selectors.access import team_id_list
from interop import codes
from interop.resources import task_id
from interop.subscriptions.endpoints import EndpointRefused, parse_headers, target
from interop.subscriptions.models import Content, Status, Subscription
from interop.subscriptions.resources import EXT_CONTENT, EXT_HEARTBEAT, EXT_TIMEOUT
from interop.subscriptions.topics import BY_URL, RED_FLAG, TASK_CHANGED

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from careflow.facts import Facts
    from episodes.models import Episode, RedFlag

# Who publishes the delivery tasks (tasks.enqueue_delivery, set at start by the app's
# ready): the writes never import the tasks.
_delivery_requested: list[Callable[[int], None]] = []


def on_delivery_requested(enqueue: Callable[[int], None]) -> None:
    _delivery_requested[:] = [enqueue]


def _request_delivery(subscription_ids: set[int]) -> None:
    for enqueue in _delivery_requested:
        for subscription_id in sorted(subscription_ids):
            transaction.on_commit(lambda s=subscription_id, e=enqueue: e(s))


# One statement: the team's live subscriptions to the topic are locked in id order (two
# writers of one team never wait on each other crosswise), each counts the new events, and
# one row an event is written with the number it got. The lock lasts until the write
# commits, so a subscription's numbers are committed in their order.
_RECORD: Final = """
WITH live AS (
    SELECT id FROM subscriptions_subscription
    WHERE topic = %(topic)s AND status <> 'off' AND team_ids @> ARRAY[%(team)s]::bigint[]
      AND (ends_at IS NULL OR ends_at > %(now)s)
    ORDER BY id
    FOR UPDATE
), counted AS (
    UPDATE subscriptions_subscription AS s
    SET event_count = s.event_count + %(n)s
    FROM live WHERE s.id = live.id
    RETURNING s.id, s.event_count
)
INSERT INTO subscriptions_subscriptionevent
    (subscription_id, number, focus, team_id, episode_id, occurred_at, status, attempts,
     last_error)
SELECT counted.id, counted.event_count - %(n)s + f.n, f.focus, %(team)s, %(episode)s,
       %(now)s, 'pending', 0, ''
FROM counted CROSS JOIN unnest(%(foci)s::text[]) WITH ORDINALITY AS f(focus, n)
RETURNING subscription_id
"""


def _record(*, topic: str, team_id: int, episode_id: int, foci: list[str]) -> None:
    if not foci:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD,
            {
                "topic": topic,
                "team": team_id,
                "episode": episode_id,
                "foci": foci,
                "n": len(foci),
                "now": timezone.now(),
            },
        )
        subscribed = {row[0] for row in cursor.fetchall()}
    _request_delivery(subscribed)


def flag_event_record(*, red_flag: RedFlag) -> None:
    """A red flag was raised: an event for every live red-flag subscription of its team."""
    episode = red_flag.episode
    _record(
        topic=RED_FLAG.key,
        team_id=episode.care_team_id,
        episode_id=episode.pk,
        foci=[f"Flag/{red_flag.pk}"],
    )


# The Task topic's subscriptions of the team, and the episode's Tasks as last notified: no
# row when the team has none (the one statement a write of such a team costs).
_TASKS_SEEN: Final = """
SELECT seen.tasks FROM (
    SELECT 1 FROM subscriptions_subscription
    WHERE topic = %(topic)s AND status <> 'off' AND team_ids @> ARRAY[%(team)s]::bigint[]
    LIMIT 1
) AS subscribed
LEFT JOIN subscriptions_episodetasks AS seen ON seen.episode_id = %(episode)s
"""
_TASKS_KEEP: Final = """
INSERT INTO subscriptions_episodetasks (episode_id, tasks) VALUES (%(episode)s, %(tasks)s)
ON CONFLICT (episode_id) DO UPDATE SET tasks = EXCLUDED.tasks
"""


def _tasks_now(episode: Episode, facts: Facts) -> dict[str, str]:
    """The episode's open Tasks (careflow's next actions), each with what it says."""
    today = patient_today(episode.patient)
    return {
        task_id(episode.pk, a.action): f"{a.rule}|{a.due.isoformat()}|{a.urgent}"
        for a in next_actions(State(episode.state), facts, today)
    }


def task_events_record(*, episode: Episode, facts: Facts) -> None:
    """A write to the episode: an event for each Task it opened, changed or ended."""
    params: dict[str, Any] = {
        "topic": TASK_CHANGED.key,
        "team": episode.care_team_id,
        "episode": episode.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(_TASKS_SEEN, params)
        row = cursor.fetchone()
        if row is None:
            return
        # Django's psycopg setup reads jsonb as text (JSONField decodes it itself).
        seen = json.loads(row[0]) if row[0] is not None else {}
        now = _tasks_now(episode, facts)
        if now == seen:
            return
        from psycopg.types.json import Jsonb  # noqa: PLC0415 - the driver's JSON adapter

        cursor.execute(_TASKS_KEEP, {**params, "tasks": Jsonb(now)})
    changed = sorted(k for k in seen.keys() | now.keys() if seen.get(k) != now.get(k))
    _record(
        topic=TASK_CHANGED.key,
        team_id=episode.care_team_id,
        episode_id=episode.pk,
        foci=[f"Task/{k}" for k in changed],
    )


# -- a client's subscriptions -----------------------------------------------------------------


class SubscriptionRefused(ValueError):  # noqa: N818 - read as "the subscription is refused"
    """The Subscription cannot be made; ``issues`` are (FHIRPath expression, words)."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(text for _where, text in issues))
        self.issues = issues


MAX_HEARTBEAT_SECONDS: Final = 86_400
MAX_TIMEOUT_SECONDS: Final = 60


def _extension(element: dict[str, Any], url: str, key: str) -> Any:  # noqa: ANN401
    for extension in element.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == url:
            return extension.get(key)
    return None


def _whole(value: Any, where: str, low: int, high: int) -> int | None:  # noqa: ANN401
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        msg = f"a whole number of seconds from {low} to {high}"
        raise SubscriptionRefused([(where, msg)])
    return value


def _channel(body: dict[str, Any]) -> dict[str, Any]:
    channel = body["channel"]
    if channel.get("type") != "rest-hook":
        raise SubscriptionRefused([("Subscription.channel.type", "careflow sends rest-hook only")])
    if channel.get("payload") not in (None, codes.FHIR_JSON, "application/json"):
        msg = f"notifications are {codes.FHIR_JSON}"
        raise SubscriptionRefused([("Subscription.channel.payload", msg)])
    content = _extension(channel.get("_payload") or {}, EXT_CONTENT, "valueCode") or "id-only"
    if content not in Content.values:
        msg = f"the payload content is one of {', '.join(Content.values)}"
        raise SubscriptionRefused([("Subscription.channel.payload.extension", msg)])
    endpoint = channel.get("endpoint") or ""
    if len(endpoint) > 2048:  # noqa: PLR2004 - the column's length
        raise SubscriptionRefused([("Subscription.channel.endpoint", "at most 2048 characters")])
    try:
        target(endpoint)
        headers = parse_headers(channel.get("header"))
    except EndpointRefused as exc:
        raise SubscriptionRefused([("Subscription.channel", str(exc))]) from exc
    ext = "Subscription.channel.extension"
    return {
        "endpoint": endpoint,
        "headers": headers,
        "content": content,
        "heartbeat_seconds": _whole(
            _extension(channel, EXT_HEARTBEAT, "valueUnsignedInt"), ext, 1, MAX_HEARTBEAT_SECONDS
        ),
        "timeout_seconds": _whole(
            _extension(channel, EXT_TIMEOUT, "valueUnsignedInt"), ext, 1, MAX_TIMEOUT_SECONDS
        )
        or settings.CAREFLOW_SUBSCRIPTION_TIMEOUT_SECONDS,
    }


@transaction.atomic
def subscription_create(*, owner: AbstractBaseUser, body: dict[str, Any]) -> Subscription:
    """A Subscription (already valid R4B) for the owner's care teams; status ``requested``.

    Its handshake is asked for on commit; events are recorded from now on and wait for it.
    """
    topic = BY_URL.get(body.get("criteria") or "")
    if topic is None:
        known = ", ".join(sorted(BY_URL))
        msg = f"criteria: the canonical URL of one of careflow's SubscriptionTopics ({known})"
        raise SubscriptionRefused([("Subscription.criteria", msg)])
    teams = team_id_list(owner)
    if not teams:
        msg = "a subscription hears its owner's care teams; this user is in none"
        raise SubscriptionRefused([("Subscription", msg)])
    ends_at = body.get("end")
    if ends_at is not None:
        try:
            ends_at = datetime.fromisoformat(str(ends_at))
        except ValueError:
            ends_at = None
        if ends_at is None or ends_at.tzinfo is None or ends_at <= timezone.now():
            raise SubscriptionRefused([("Subscription.end", "an instant in the future")])
    subscription = Subscription.objects.create(
        owner=owner,
        team_ids=sorted(teams),
        topic=topic.key,
        reason=body["reason"],
        ends_at=ends_at,
        **_channel(body),
    )
    _request_delivery({subscription.pk})
    return subscription


def subscription_delete(*, subscription_id: int) -> None:
    """Ended by its client: ``off``, nothing more recorded or sent; its rows stay."""
    Subscription.objects.filter(pk=subscription_id).update(
        status=Status.OFF, lease_until=None, updated_at=timezone.now()
    )
