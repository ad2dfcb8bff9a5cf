"""The outbox: events are rows written by the clinical write itself, numbered, per team."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from episodes import services
from interop.subscriptions.models import EpisodeTasks, SubscriptionEvent
from interop.subscriptions.outbox import subscription_create, subscription_delete
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode
from tests.interop.subscriptions.helpers import subscription_body


@pytest.fixture
def flag_subscription(receiver, coordinator):
    return subscription_create(owner=coordinator, body=subscription_body(receiver.url, "red-flag"))


def _events(subscription):
    return list(
        SubscriptionEvent.objects.filter(subscription=subscription)
        .order_by("number")
        .values_list("number", "focus", "status")
    )


def test_a_red_flag_is_an_event_of_its_teams_subscription(flag_subscription, episode, coordinator):
    with at_day(20):
        flag = services.red_flag_raise(
            episode_id=episode.pk, sign="urinary_retention", by=coordinator
        )
    assert _events(flag_subscription) == [(1, f"Flag/{flag.pk}", "pending")]
    flag_subscription.refresh_from_db()
    assert flag_subscription.event_count == 1
    event = SubscriptionEvent.objects.get()
    assert (event.team_id, event.episode_id) == (episode.care_team_id, episode.pk)


def test_events_are_numbered_in_order(flag_subscription, episode, coordinator):
    with at_day(20):
        first = services.red_flag_raise(
            episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator
        )
        second = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    assert _events(flag_subscription) == [
        (1, f"Flag/{first.pk}", "pending"),
        (2, f"Flag/{second.pk}", "pending"),
    ]


class RolledBackError(Exception):
    pass


def test_a_write_that_fails_leaves_no_event(flag_subscription, episode, coordinator):
    seen = []

    def raise_then_fail():
        with transaction.atomic():
            services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
            seen.append(SubscriptionEvent.objects.count())  # inside the write's transaction
            raise RolledBackError

    with at_day(20), pytest.raises(RolledBackError):
        raise_then_fail()
    assert seen == [1]
    assert SubscriptionEvent.objects.count() == 0
    flag_subscription.refresh_from_db()
    assert flag_subscription.event_count == 0


def test_another_teams_flag_is_never_an_event(
    flag_subscription, other_team, other_coordinator, coordinator
):
    theirs = new_episode(
        PatientFactory(care_team=other_team), other_coordinator, radicular_pain=True
    )
    with at_day(20):
        services.red_flag_raise(episode_id=theirs.pk, sign="fever", by=other_coordinator)
    assert SubscriptionEvent.objects.count() == 0


def test_a_deleted_subscription_records_nothing(flag_subscription, episode, coordinator):
    subscription_delete(subscription_id=flag_subscription.pk)
    with at_day(20):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    assert SubscriptionEvent.objects.count() == 0


def test_a_task_subscription_hears_the_tasks_a_write_changes(receiver, coordinator, patient):
    subscription = subscription_create(
        owner=coordinator, body=subscription_body(receiver.url, "task-changed")
    )
    episode = new_episode(patient, coordinator, radicular_pain=True)
    # Made before the subscription saw the episode: its first write reports every open Task.
    first = {focus for _n, focus, _s in _events(subscription)}
    assert first
    assert all(focus.startswith(f"Task/{episode.pk}-") for focus in first)
    assert set(EpisodeTasks.objects.get(episode_id=episode.pk).tasks) == {
        focus.removeprefix("Task/") for focus in first
    }
    before = len(first)
    with at_day(20):
        services.red_flag_raise(episode_id=episode.pk, sign="urinary_retention", by=coordinator)
    after = _events(subscription)
    new = {focus for n, focus, _s in after if n > before}
    # Escalated: the urgent imaging and referral open, the routine ones are no longer asked.
    assert any("urgent" in focus for focus in new), new
    assert [n for n, _f, _s in after] == list(range(1, len(after) + 1))


def test_a_write_that_changes_no_task_is_no_event(receiver, coordinator, patient):
    subscription = subscription_create(
        owner=coordinator, body=subscription_body(receiver.url, "task-changed")
    )
    episode = new_episode(patient, coordinator, radicular_pain=True)
    count = len(_events(subscription))
    services.episode_update(
        episode_id=episode.pk, by=coordinator, fields={"assigned_to": None}, reason="", version=None
    )
    assert len(_events(subscription)) == count


def test_a_team_without_subscriptions_pays_one_statement_a_topic(coordinator, patient):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(20), CaptureQueriesContext(connection) as ctx:
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    ours = [q["sql"] for q in ctx.captured_queries if "subscriptions_" in q["sql"]]
    # The red flag's outbox statement (inserting nothing) and the Task topic's look-up.
    assert len(ours) == 2, ours
    assert SubscriptionEvent.objects.count() == 0
