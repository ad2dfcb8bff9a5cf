"""The patient-safety gauges are the queues' own figures, read at scrape time in 7 reads."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from episodes.models import Episode
from notifications.models import PatientMessage, Reminder
from ops.collector import PatientSafetyCollector
from ops.models import Heartbeat
from tests.clock import moment
from tests.factories import RedFlagFactory, ReminderFactory, bulk_episodes
from tests.ops.helpers import scrape, value

pytestmark = pytest.mark.django_db


def test_an_urgent_episode_not_acted_on_and_how_long_it_has_waited(
    client, metrics_token, episode, clinician
):
    RedFlagFactory(episode=episode, sign="saddle_anesthesia", by=clinician, at=moment(5))
    with time_machine.travel(moment(5) + timedelta(minutes=90), tick=False):
        text = scrape(client)
    assert value(text, "careflow_urgent_episodes", acted="no") == 1
    assert value(text, "careflow_urgent_episodes", acted="yes") == 0
    assert value(text, "careflow_urgent_unacted_oldest_age_seconds") == pytest.approx(5400)


def test_no_urgent_episode_reads_zero(client, metrics_token, episode):
    text = scrape(client)
    assert value(text, "careflow_urgent_episodes", acted="no") == 0
    assert value(text, "careflow_urgent_unacted_oldest_age_seconds") == 0


def test_dispatch_lag_is_the_oldest_due_reminder_not_yet_claimed(client, metrics_token, episode):
    Reminder.objects.all().delete()  # the episode's own milestones: only these rows count
    now = timezone.now()
    ReminderFactory(episode=episode, milestone="lag_a", due_at=now - timedelta(minutes=12))
    ReminderFactory(episode=episode, milestone="lag_b", due_at=now - timedelta(minutes=3))
    # Not due yet, or no longer waiting: neither counts.
    ReminderFactory(episode=episode, milestone="lag_c", due_at=now + timedelta(hours=1))
    ReminderFactory(
        episode=episode, milestone="lag_d", due_at=now - timedelta(days=1), status="sent"
    )
    ReminderFactory(
        episode=episode, milestone="lag_e", due_at=now - timedelta(days=1), status="failed"
    )
    with time_machine.travel(now, tick=False):
        text = scrape(client)
    assert value(text, "careflow_reminders_due") == 2
    assert value(text, "careflow_dispatch_lag_seconds") == pytest.approx(720)
    assert value(text, "careflow_reminders", status="failed") == 1
    assert value(text, "careflow_reminders", status="sending") == 0


def test_unread_replies_and_the_oldest(client, metrics_token, episode):
    received = timezone.now() - timedelta(hours=30)
    reply = PatientMessage.objects.create(
        episode=episode, provider_message_id="SM" + "a" * 32, kind="reply", body="Feeling worse"
    )
    PatientMessage.objects.filter(pk=reply.pk).update(received_at=received)
    Episode.objects.filter(pk=episode.pk).update(unread_reply_since=received)
    text = scrape(client)
    assert value(text, "careflow_unread_replies") == 1
    assert value(text, "careflow_unread_reply_episodes") == 1
    assert value(text, "careflow_unread_reply_oldest_age_seconds") == pytest.approx(
        30 * 3600, abs=60
    )


def test_overdue_referrals_by_rule(client, metrics_token, team, coordinator):
    bulk_episodes(team, coordinator, 40)
    text = scrape(client)
    overdue = {
        rule: value(text, "careflow_overdue_referrals", rule=rule)
        for rule in Episode.objects.exclude(next_deadline_rule="")
        .values_list("next_deadline_rule", flat=True)
        .distinct()
        if f'rule="{rule}"' in text
    }
    assert overdue, "bulk_episodes makes overdue episodes"
    assert (
        sum(overdue.values())
        == Episode.objects.filter(
            overdue_from__lte=timezone.now(), next_deadline__lt=timezone.localdate() + timedelta(2)
        ).count()
    )


def test_heartbeats_and_job_successes(client, metrics_token):
    text = scrape(client)
    assert math.isinf(value(text, "careflow_beat_heartbeat_age_seconds"))
    assert value(text, "careflow_job_last_success_timestamp_seconds", job="heartbeat") == 0
    now = timezone.now()
    Heartbeat.objects.create(name="beat", at=now - timedelta(seconds=40))
    Heartbeat.objects.create(name="worker", at=now - timedelta(seconds=10))
    Heartbeat.objects.create(name="prune-idempotency-keys", at=now)
    with time_machine.travel(now, tick=False):
        text = scrape(client)
    assert value(text, "careflow_beat_heartbeat_age_seconds") == pytest.approx(40)
    assert value(text, "careflow_worker_heartbeat_age_seconds") == pytest.approx(10)
    assert value(
        text, "careflow_job_last_success_timestamp_seconds", job="prune-idempotency-keys"
    ) == pytest.approx(now.timestamp())
    assert value(text, "careflow_metrics_collector_up") == 1


def test_the_gauges_cost_seven_reads_whatever_the_data(team, coordinator):
    bulk_episodes(team, coordinator, 60)
    with CaptureQueriesContext(connection) as queries:
        families = list(PatientSafetyCollector().collect())
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 7
    # Each figure's reads run under a statement timeout: a slow database fails the figure
    # (collector_up 0), it does not hold the scrape.
    timeouts = [q for q in queries.captured_queries if "statement_timeout" in q["sql"]]
    assert len(timeouts) == 5
    assert {f.name for f in families} >= {
        "careflow_urgent_episodes",
        "careflow_dispatch_lag_seconds",
        "careflow_overdue_referrals",
        "careflow_unread_replies",
    }


def test_a_failed_query_says_so_instead_of_reading_zero(client, metrics_token, monkeypatch):
    def broken(_now):
        raise RuntimeError
        yield

    monkeypatch.setattr("ops.collector.FIGURES", (broken,))
    text = scrape(client)
    assert value(text, "careflow_metrics_collector_up") == 0
