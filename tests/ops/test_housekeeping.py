"""Beat's housekeeping: old idempotency keys and expired tokens go; each success is stamped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.utils import timezone
from knox.models import AuthToken

from api.models import IdempotentRequest
from api.tasks import delete_expired_tokens
from ops import celery_hooks
from ops.models import Heartbeat
from ops.services import idempotency_keys_prune
from ops.tasks import heartbeat, prune_idempotency_keys

pytestmark = pytest.mark.django_db


def keyed(user, key: str, age: timedelta) -> IdempotentRequest:
    row = IdempotentRequest.objects.create(
        user=user, key=key, fingerprint="f" * 64, status_code=201
    )
    IdempotentRequest.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_keys_older_than_the_retention_are_pruned_and_younger_ones_kept(coordinator, settings):
    settings.CAREFLOW_IDEMPOTENCY_RETENTION_HOURS = 24
    old = keyed(coordinator, "old", timedelta(hours=25))
    running = keyed(coordinator, "died-mid-flight", timedelta(days=3))
    IdempotentRequest.objects.filter(pk=running.pk).update(status_code=None)
    young = keyed(coordinator, "young", timedelta(hours=23))
    assert idempotency_keys_prune() == 2
    assert list(IdempotentRequest.objects.values_list("pk", flat=True)) == [young.pk]
    assert not IdempotentRequest.objects.filter(pk__in=[old.pk, running.pk]).exists()


def test_the_prune_job_stamps_its_success(coordinator):
    keyed(coordinator, "old", timedelta(days=2))
    prune_idempotency_keys.apply()
    assert IdempotentRequest.objects.count() == 0
    stamp = Heartbeat.objects.get(name="prune-idempotency-keys").at
    assert timezone.now() - stamp < timedelta(seconds=5)


def test_expired_tokens_are_deleted_by_beat_and_the_job_stamped(coordinator):
    live, _ = AuthToken.objects.create(coordinator, expiry=timedelta(hours=1))
    expired, _ = AuthToken.objects.create(coordinator, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    delete_expired_tokens.apply()
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [live.pk]
    assert Heartbeat.objects.filter(name="delete-expired-tokens").exists()


def test_a_worker_running_the_heartbeat_stamps_it():
    heartbeat.apply()
    assert Heartbeat.objects.filter(name="worker").exists()
    # A task beat does not run is counted, but stamps no job.
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"worker", "heartbeat"}


def test_beat_stamps_its_heartbeat_each_time_it_sends_and_nobody_else_does(monkeypatch):
    publish = {"headers": {}, "body": None, "exchange": "", "routing_key": "celery"}
    before_task_publish.send(sender="ops.tasks.heartbeat", **publish)
    assert not Heartbeat.objects.filter(name="beat").exists()  # a web process sending a task
    monkeypatch.setattr(celery_hooks, "_in_beat", False)
    monkeypatch.setattr(celery_hooks, "_last_beat_stamp", float("-inf"))
    celery_hooks._on_beat_init()  # noqa: SLF001 - what Celery's beat_init signal calls
    before_task_publish.send(sender="ops.tasks.heartbeat", **publish)
    assert Heartbeat.objects.filter(name="beat").exists()
