from __future__ import annotations

from datetime import timedelta

from config.celery_app import app


def test_celery_accepts_and_sends_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"


def test_a_task_is_acknowledged_only_after_it_ran():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_visibility_timeout_is_far_above_the_task_time_limit():
    assert app.conf.task_time_limit < app.conf.broker_transport_options["visibility_timeout"]


def test_reminders_are_dispatched_every_minute_on_an_interval():
    entry = app.conf.beat_schedule["dispatch-reminders"]

    assert entry["task"] == "notifications.tasks.dispatch_due_reminders"
    assert entry["schedule"] == timedelta(seconds=60)
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
