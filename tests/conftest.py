"""Fixtures shared by every test package.

`celery_worker_process` starts a real Celery worker against the test database and the test
Redis, for tests where delivery itself is what is being tested.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from config.celery_app import app as celery_app
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.processes import celery_worker_argv, database_url_for_worker

# The fixtures that run Playwright's sync API (tests/checkin, tests/workspace).
BROWSER_FIXTURES = frozenset({"browser", "browser_page"})


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> object:
    """Close the connections a browser test's body opened, in the body's own context.

    While Playwright's sync API runs, Django gives the test body a database connection
    of its own (connections are kept per context, and the body's is not the one the
    fixtures see), so the test database's teardown found it still open: "database
    test_careflow is being accessed by other users" at the end of every PostgreSQL run.
    This runs around the test function's call, where that connection can be reached.
    """
    try:
        return (yield)
    finally:
        if BROWSER_FIXTURES & set(pyfuncitem.fixturenames):
            connections.close_all()


WORKER_START_TIMEOUT_SECONDS = 30
WORKER_STOP_TIMEOUT_SECONDS = 15


def _worker_answers(hostname: str) -> bool:
    replies = celery_app.control.ping(destination=[hostname], timeout=1)
    return any(hostname in reply for reply in replies or [])


class CeleryWorker:
    """A `celery -A config worker` subprocess (solo pool) and how to stop or kill it."""

    def __init__(self, *, database_url: str, extra_env: dict[str, str] | None, queue: str | None):
        # Unique, so a ping reaches this worker only and never one left over from `make run`.
        self.hostname = f"pytest-{uuid.uuid4().hex[:8]}@careflow-tests"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            **(extra_env or {}),
        }
        suffix = "" if queue is None else f"-{self.hostname.split('@')[0]}"
        self.log_path = Path(settings.VAR_DIR) / f"pytest-celery-worker{suffix}.log"
        queues = [] if queue is None else [f"--queues={queue}"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*celery_worker_argv(self.hostname), *queues],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
        while not _worker_answers(self.hostname):
            if self.process.poll() is not None:
                pytest.fail(
                    f"celery worker exited with {self.process.returncode}:\n"
                    f"{self.log_path.read_text()}",
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"celery worker did not answer a ping within {WORKER_START_TIMEOUT_SECONDS}"
                    f" s:\n{self.log_path.read_text()}",
                )

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: warm shutdown, the current task finishes first
        try:
            self.process.wait(timeout=WORKER_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when the machine or the OOM killer takes it."""
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery -A config worker`, alive for the whole session, answering pings.

    It consumes only its own queue: it lives as long as the session, and tasks that other
    tests enqueue on the default queue (a red-flag alert's dispatch, say) must not be taken
    by it behind their back. Tests of delivery start their own worker with
    `celery_worker_factory`. Yields the worker's hostname; its log is
    var/pytest-celery-worker-<name>.log.
    """
    with django_db_blocker.unblock():
        database_url = database_url_for_worker(connection.settings_dict)
    worker = CeleryWorker(database_url=database_url, extra_env=None, queue="session-probe")
    try:
        worker.wait_ready()
        yield worker.hostname
    finally:
        worker.stop()


@pytest.fixture
def celery_worker_factory(django_db_setup, django_db_blocker):
    """Start workers with extra environment on their own queue; stopped after the test.

    ``start(queue=..., extra_env={...})`` returns a ready CeleryWorker. Its own queue keeps
    the session's `celery_worker_process` (if running) from taking the test's tasks.
    """
    with django_db_blocker.unblock():
        database_url = database_url_for_worker(connection.settings_dict)
    started: list[CeleryWorker] = []

    def start(*, queue: str, extra_env: dict[str, str] | None = None) -> CeleryWorker:
        worker = CeleryWorker(database_url=database_url, extra_env=extra_env, queue=queue)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


# -- actors: one fixture per actor ---------------------------------------------------------


@pytest.fixture
def team(db):
    from tests.factories import CareTeamFactory  # noqa: PLC0415 - needs the app registry

    return CareTeamFactory(name="Team A")


@pytest.fixture
def other_team(db):
    from tests.factories import CareTeamFactory  # noqa: PLC0415

    return CareTeamFactory(name="Team B")


def _member(team, username: str, role: str):
    from tests.factories import MembershipFactory, UserFactory  # noqa: PLC0415

    user = UserFactory(username=username)
    MembershipFactory(team=team, user=user, role=role)
    return user


@pytest.fixture
def coordinator(team):
    return _member(team, "coord-a", "coordinator")


@pytest.fixture
def clinician(team):
    return _member(team, "clin-a", "clinician")


@pytest.fixture
def other_coordinator(other_team):
    return _member(other_team, "coord-b", "coordinator")


@pytest.fixture
def other_clinician(other_team):
    return _member(other_team, "clin-b", "clinician")


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model  # noqa: PLC0415

    return get_user_model().objects.create_superuser("root-admin", "root@example.org", "pw")


@pytest.fixture
def patient(team):
    from tests.factories import PatientFactory  # noqa: PLC0415

    return PatientFactory(care_team=team)


@pytest.fixture
def episode(patient, coordinator):
    """Team A's episode, whose facts satisfy IM-1 and ESI-3: only the day count may block."""
    from tests.factories import new_episode  # noqa: PLC0415

    return new_episode(
        patient,
        coordinator,
        radicular_pain=True,
        conservative_therapy_failed=True,
        candidate_for_esi=True,
    )


@pytest.fixture
def other_episode(other_team, other_coordinator):
    from tests.factories import PatientFactory, new_episode  # noqa: PLC0415

    return new_episode(PatientFactory(care_team=other_team), other_coordinator)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: every test starts from zero."""
    from django.core.cache import cache  # noqa: PLC0415

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def browser_page(monkeypatch):
    """A page in Debian's headless Chromium (tests/chromium.py) at a phone's size."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes around it are synchronous and safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional at import

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def fake_twilio():
    """The fake Twilio (tests/notifications/fake_twilio.py): as Twilio documents it."""
    from tests.notifications.fake_twilio import start_fake_twilio  # noqa: PLC0415

    state, server = start_fake_twilio()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _force_login_is_a_finished_sign_in(monkeypatch):
    """``force_login`` stands for a whole sign-in: a superuser's session is second-factor verified.

    The admin asks the session which device verified it (``infra.second_factor``); a real
    sign-in gets there through the code page (tests/security/test_second_factor.py), and
    this marks it as django-otp's ``login()`` does, with a confirmed device of the user's.
    Only superusers: the workspace and the API need nothing in the session (a user who must
    give a second factor is not signed in before giving it).
    """
    from django.test import Client  # noqa: PLC0415 - needs settings

    original = Client._login  # noqa: SLF001 - the one place force_login and login meet

    def _login(self, user, backend=None):
        original(self, user, backend)
        if user.is_superuser:
            from django_otp import DEVICE_ID_SESSION_KEY  # noqa: PLC0415
            from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

            device, _ = TOTPDevice.objects.get_or_create(
                user=user, confirmed=True, defaults={"name": "tests"}
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "_login", _login)
