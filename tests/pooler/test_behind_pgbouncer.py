"""Careflow through PgBouncer in transaction mode: many processes, one database, a pooler.

Debian's PgBouncer (1.18; ``scripts/ensure_pgbouncer.sh``) in ``pool_mode = transaction``
with two server connections, between the test database and a real gunicorn (two workers)
and a real Celery worker. With ``CAREFLOW_DB_PREPARED_STATEMENTS=false`` (README, "Run it at
scale"): the API's reads and writes, a race of concurrent transitions (one winner), an
``Idempotency-Key`` retry and the reminders' dispatch (each sent once) all hold through it.
With prepared statements left on, the same pooler breaks requests: PgBouncer before 1.21
cannot carry a prepared statement from one transaction to the next (a client's statement
lands on a server connection that has another's, or none) — why the setting exists.
https://www.pgbouncer.org/features.html#sql-feature-map-for-pooling-modes
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from knox.models import AuthToken

from notifications import tasks
from notifications.models import Reminder
from tests.factories import PatientFactory, new_episode
from tests.notifications.e2e import (
    daytime_zone,
    drain,
    enrol_15_days_after_onset,
    file_delivery_worker,
    sms_files,
    wait_until_done,
)
from tests.pooler.pgbouncer import in_front_of
from tests.processes import free_port, gunicorn_argv, stop

pytestmark = pytest.mark.django_db(transaction=True)

START_TIMEOUT_SECONDS = 60
QUEUES = ("urgent", "overdue", "due_soon", "unassigned", "mine", "delivery_failures")


def _wait(what: str, ready, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} not ready in {START_TIMEOUT_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def pgbouncer():
    """PgBouncer in transaction mode, two server connections; yields the test database's URL."""
    with in_front_of(connection.settings_dict) as pooler:
        yield pooler.url(connection.settings_dict["NAME"])


@pytest.fixture
def web_through(pgbouncer, tmp_path):
    """Start gunicorn (two workers) whose database is behind the pooler; yields its base URL."""
    started: list[subprocess.Popen] = []

    def start(*, prepared: bool) -> str:
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": pgbouncer,
            "REDIS_URL": settings.REDIS_URL,
            "CAREFLOW_DB_PREPARED_STATEMENTS": "true" if prepared else "false",
            "CAREFLOW_API_RATE_USER": "100000/minute",
        }
        log = tmp_path / f"gunicorn-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                gunicorn_argv(port), cwd=settings.BASE_DIR, env=env, stdout=out, stderr=out
            )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        _wait("gunicorn", lambda: _request(base, "GET", "/healthz")[0] in {200, 503}, process, log)
        return base

    yield start
    for process in started:
        stop(process)


def _request(base: str, method: str, path: str, *, token: str = "", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310 - a local URL
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_api_holds_through_the_pooler_with_prepared_statements_off(
    web_through, team, coordinator
):
    base = web_through(prepared=False)
    token = AuthToken.objects.create(user=coordinator)[1]
    episodes = [new_episode(PatientFactory(care_team=team), coordinator) for _ in range(3)]

    for _ in range(3):  # each page more than once: any server connection may answer it
        for name in QUEUES:
            status, _body = _request(base, "GET", f"/api/queues/{name}/", token=token)
            assert status == 200, (name, _body[:300])
    status, body = _request(base, "GET", f"/api/episodes/{episodes[0].pk}/", token=token)
    assert status == 200
    assert json.loads(body)["id"] == episodes[0].pk

    # Eight clients resolve one episode at once: one wins, the rest are told it moved on.
    target = episodes[1].pk
    answers: list[int] = []
    start = threading.Barrier(8)

    def resolve() -> None:
        start.wait()
        answers.append(
            _request(
                base, "POST", f"/api/episodes/{target}/transitions/resolve/", token=token, body={}
            )[0]
        )

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] + [409] * 7

    # A retried POST with the same Idempotency-Key gets the first answer; nothing twice.
    key = {"Idempotency-Key": "pooler-retry-1"}
    path = f"/api/episodes/{episodes[2].pk}/transitions/resolve/"
    first = _request(base, "POST", path, token=token, body={}, headers=key)
    again = _request(base, "POST", path, token=token, body={}, headers=key)
    assert first[0] == 200
    assert again == first


def test_prepared_statements_left_on_break_requests_through_this_pooler(
    web_through, team, coordinator
):
    base = web_through(prepared=True)
    token = AuthToken.objects.create(user=coordinator)[1]
    new_episode(PatientFactory(care_team=team), coordinator)
    statuses = [_request(base, "GET", "/api/queues/urgent/", token=token)[0] for _ in range(12)]
    assert 500 in statuses, statuses


@pytest.fixture
def worker_through(pgbouncer, settings, tmp_path, celery_worker_factory):
    """A Celery worker whose database is behind the pooler; SMS to files under tmp_path."""
    return file_delivery_worker(
        celery_worker_factory,
        settings,
        tmp_path,
        DATABASE_URL=pgbouncer,
        CAREFLOW_DB_PREPARED_STATEMENTS="false",
    )


def test_reminders_are_dispatched_once_through_the_pooler(worker_through, team, coordinator):
    worker, queue, sms_dir, _mail_dir = worker_through
    patients = [
        PatientFactory(
            care_team=team,
            timezone=daytime_zone(),
            preferred_channel="sms",
            sms_consent=True,
            phone=f"+1555765{n:04d}",
        )
        for n in range(5)
    ]
    episodes = [enrol_15_days_after_onset(patient, coordinator) for patient in patients]
    due = list(
        Reminder.objects.filter(episode__in=episodes, milestone="2_weeks", audience="patient")
    )
    tasks.dispatch_due_reminders.apply_async(queue=queue)
    tasks.dispatch_due_reminders.apply_async(queue=queue)
    wait_until_done([r.pk for r in due])
    drain(worker, queue)
    assert sms_files(sms_dir) == {f"reminder-{r.pk}": 1 for r in due}
    assert set(
        Reminder.objects.filter(pk__in=[r.pk for r in due]).values_list("status", flat=True)
    ) == {"sent"}
