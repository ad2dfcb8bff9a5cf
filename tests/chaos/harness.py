"""The fault tests' machinery: a private Redis, real processes, and the delivery ledger.

Everything runs on 127.0.0.1: a redis-server of the test's own on a spare port (the
machine's shared Redis is never stopped), Celery workers and beat and dispatcher loops as
subprocesses on the test database, and the fake Twilio of tests/notifications in the test
process. Every process started here is in a session of its own and is stopped by its id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from celery import Celery
from django.conf import settings

from episodes import services
from notifications.models import DeliveryAttempt, Reminder
from tests.factories import PatientFactory
from tests.notifications.e2e import daytime_zone, email_messages
from tests.notifications.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.processes import celery_worker_argv

BASE_DIR = Path(settings.BASE_DIR)
CHAOS_DIR = Path(settings.VAR_DIR) / "chaos"
FIGURES_DIR = CHAOS_DIR / "figures"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20
DONE = ("sent", "failed", "cancelled", "skipped")
# Debian's redis-server package; scripts/chaos.sh checks it is installed.
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def wait_for(check: Callable[[], object], *, timeout: float, what: str, pause: float = 0.2):
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(pause)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- a private Redis ------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own, without persistence, that can be stopped.

    Stopped and started again it comes back empty, as a production Redis without
    persistence does after a restart: every queued and unacknowledged message is gone.
    """

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.answers, timeout=START_TIMEOUT_SECONDS, what="the private Redis")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # `--save ""`: nothing is written, the data is gone
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    def queued(self, queue: str) -> int:
        return redis.Redis.from_url(self.url, socket_timeout=2).llen(queue)


# -- processes ------------------------------------------------------------------------------


class Proc:
    """A subprocess in a session of its own, optionally under scripts/respawn.sh."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_dir: Path, *, respawn: bool
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        command = [str(BASE_DIR / "scripts" / "respawn.sh"), *argv] if respawn else argv
        self.respawn = respawn
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env={**env, "RESPAWN_MIN_DELAY": "1", "RESPAWN_MAX_DELAY": "4"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def child_pid(self) -> int | None:
        """Under respawn.sh: the pid of the command it runs now (None between two runs)."""
        if not self.respawn:
            return self.pid
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return None
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"sleep" not in cmdline.split(b"\0")[0]:
                return int(pid)
        return None

    def respawns(self) -> int:
        return self.log().count("respawn: ")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the process group (as honcho and systemd do), SIGKILL if it lingers."""
        if self.process.poll() is None:
            with _no_such_process():
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                with _no_such_process():
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()
        # A command the wrapper ran may outlive it only if it ignored SIGTERM: end the group.
        with _no_such_process():
            os.killpg(self.pid, signal.SIGKILL)


class _no_such_process:  # noqa: N801 - used like contextlib.suppress
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, ProcessLookupError)


def probe_app(broker_url: str) -> Celery:
    """A Celery client of the given broker, to ping workers (never a worker itself)."""
    app = Celery("careflow-chaos-probe", broker=broker_url, set_as_current=False)
    app.conf.update(
        accept_content=["json"],
        task_serializer="json",
        broker_connection_retry_on_startup=False,
        broker_connection_timeout=2,
    )
    return app


@dataclass
class Rig:
    """The processes of one fault test, all pointed at the same Redis, database and provider."""

    broker: PrivateRedis
    provider: FakeTwilio
    database_url: str
    log_dir: Path
    mail_dir: Path
    lease_seconds: int = 8
    batch_size: int = 5
    beat_seconds: float = 1.0
    through_pooler: bool = False
    queue: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:8]}")
    processes: list[Proc] = field(default_factory=list)

    def env(self, *, app_name: str, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.chaos.process_settings",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.broker.url,
            # libpq names the connection: the database-fault test finds it by this name.
            "PGAPPNAME": app_name,
            "CAREFLOW_REMINDER_QUEUE": self.queue,
            "CAREFLOW_REMINDER_LEASE_SECONDS": str(self.lease_seconds),
            "CAREFLOW_REMINDER_BATCH_SIZE": str(self.batch_size),
            "CAREFLOW_CHAOS_BEAT_SECONDS": str(self.beat_seconds),
            "CAREFLOW_SMS_BACKEND": "notifications.channels.sms.TwilioSmsBackend",
            "CAREFLOW_SMS_TIMEOUT_SECONDS": "30",  # a hung call must not time out first
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_BASE_URL": self.provider.url,
            "CAREFLOW_TEST_EMAIL_DIR": str(self.mail_dir),
            # PgBouncer in transaction mode cannot carry a prepared statement (decision 0003).
            **({"CAREFLOW_DB_PREPARED_STATEMENTS": "false"} if self.through_pooler else {}),
            **extra,
        }

    def _start(self, name: str, argv: list[str], env: dict[str, str], *, respawn: bool) -> Proc:
        proc = Proc(name, argv, env, self.log_dir, respawn=respawn)
        self.processes.append(proc)
        return proc

    def worker(self, name: str, *, respawn: bool = False, **extra: str) -> Worker:
        hostname = f"{name}-{uuid.uuid4().hex[:6]}@careflow-chaos"
        proc = self._start(
            name,
            [*celery_worker_argv(hostname), f"--queues={self.queue}"],
            self.env(app_name=f"careflow-chaos-{name}", **extra),
            respawn=respawn,
        )
        worker = Worker(proc=proc, hostname=hostname, broker_url=self.broker.url)
        worker.wait_ready()
        return worker

    def beat(self, name: str, *, respawn: bool = False) -> Proc:
        return self._start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"],
            self.env(app_name=f"careflow-chaos-{name}"),
            respawn=respawn,
        )

    def dispatcher_loop(self, name: str, *, cycles: int, pause: float) -> Proc:
        """`manage.py dispatch_reminders` in a loop, in one process (cron's way, sped up)."""
        return self._start(
            name,
            [
                sys.executable,
                "-m",
                "tests.chaos.dispatch_loop",
                f"--cycles={cycles}",
                f"--pause={pause}",
            ],
            self.env(app_name=f"careflow-chaos-{name}"),
            respawn=False,
        )

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


@dataclass
class Worker:
    proc: Proc
    hostname: str
    broker_url: str

    def answers(self) -> bool:
        try:
            replies = probe_app(self.broker_url).control.ping(
                destination=[self.hostname], timeout=1
            )
        except Exception:  # noqa: BLE001 - the broker may be down: that is "not answering"
            return False
        return any(self.hostname in reply for reply in replies or [])

    def wait_ready(self) -> None:
        def ready() -> bool:
            if not self.proc.alive():
                pytest.fail(f"{self.proc.name} exited:\n{self.proc.log()[-4000:]}")
            return self.answers()

        wait_for(ready, timeout=START_TIMEOUT_SECONDS, what=f"{self.proc.name} to answer a ping")


# -- the reminders under test ---------------------------------------------------------------


def sms_patient_episodes(team, by, count: int) -> list:
    """``count`` SMS patients enrolled 15 days after onset: the 2-week reminders are due.

    Each episode has two due rows: the patient's SMS and the care team's email. The patients
    live where it is early afternoon, so quiet hours never hold a row back.
    """
    zone = daytime_zone()
    episodes = []
    for n in range(count):
        patient = PatientFactory(
            care_team=team,
            timezone=zone,
            preferred_channel="sms",
            sms_consent=True,
            phone=f"+1555300{n:04d}",
        )
        today = datetime.now(ZoneInfo(zone)).date()
        episodes.append(
            services.episode_create(
                patient=patient, by=by, symptom_onset=today - timedelta(days=15)
            )
        )
    return episodes


def due_rows(episodes) -> list[Reminder]:
    return list(Reminder.objects.filter(episode__in=episodes, milestone="2_weeks").order_by("pk"))


def respawned_then_done(worker: Worker, first_pid: int | None, rows: list[Reminder]) -> None:
    """The supervisor brings a killed worker back; then every row is done (lease, then go)."""
    wait_for(
        lambda: worker.proc.child_pid() not in {None, first_pid},
        timeout=30,
        what="respawn.sh to start the worker again",
    )
    worker.wait_ready()
    wait_until_done([r.pk for r in rows], timeout=120)


def wait_until_done(ids: list[int], *, timeout: float) -> None:
    def done() -> bool:
        return not Reminder.objects.filter(pk__in=ids).exclude(status__in=DONE).exists()

    wait_for(done, timeout=timeout, what=f"{len(ids)} reminders to be sent or skipped")


# -- the ledger: lost, duplicated, delivered ------------------------------------------------


@dataclass
class Line:
    """One reminder, keyed by (episode, milestone, audience), as its recipient saw it."""

    reminder: int
    key: tuple[int, str, str]
    channel: str
    status: str
    delivered: int  # messages the recipient got: SMS on the phone (the fake keeps every
    #                 message it accepted, none deduplicated), email files with its Message-ID
    raw_calls: int  # create calls that reached the provider, repeats included
    interrupted: int  # attempts left in flight by a crash and marked at reclaim
    reconciled: int  # attempts that found the message at the provider instead of re-sending
    attempts: int


@dataclass
class Figures:
    fault: str
    due: int = 0
    delivered_once: int = 0
    skipped_stale: int = 0
    lost: int = 0
    duplicated: int = 0
    duplicated_sms: int = 0
    duplicated_email: int = 0
    raw_calls: int = 0
    raw_repeats: int = 0
    repeats_explained: int = 0
    interrupted_attempts: int = 0
    reconciled: int = 0
    notes: dict[str, object] = field(default_factory=dict)


def ledger(rows: list[Reminder], provider: FakeTwilio, mail_dir: Path) -> list[Line]:
    raw_sms = Counter(provider.raw_tokens())
    phones = provider.received()
    mails = email_messages(mail_dir) if mail_dir.exists() else Counter()
    lines = []
    for row in Reminder.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"):
        token = f"reminder-{row.pk}"
        outcomes = Counter(
            DeliveryAttempt.objects.filter(reminder=row).values_list("outcome", flat=True)
        )
        if row.channel == "sms":
            delivered, raw = phones[token], raw_sms[token]
        else:  # SMTP has no idempotency: every copy written is a copy delivered
            delivered = raw = mails[token]
        lines.append(
            Line(
                reminder=row.pk,
                key=(row.episode_id, row.milestone, row.audience),
                channel=row.channel,
                status=row.status,
                delivered=delivered,
                raw_calls=raw,
                interrupted=outcomes["interrupted"],
                reconciled=outcomes["reconciled"],
                attempts=sum(outcomes.values()),
            )
        )
    return lines


def _run_name(fault: str) -> str:
    """The fault's name, marked when this run puts PgBouncer in front (tests/chaos/conftest.py)."""
    return f"{fault} (pooled)" if os.environ.get("CAREFLOW_TEST_POOLER", "") == "1" else fault


def check_and_record(
    fault: str,
    rows: list[Reminder],
    provider: FakeTwilio,
    mail_dir: Path,
    *,
    stale: set[int] = frozenset(),
    notes: dict[str, object] | None = None,
) -> Figures:
    """Count every due reminder at its recipient and assert the promise; write the figures.

    Every due reminder is delivered, or (the ``stale`` ones) skipped by the 7-day rule and
    never sent; none is lost. SMS: exactly once on the phone (reconciliation with Twilio's
    message list before any re-send). Email: a second copy is allowed only as the re-send of
    an attempt a crash left in flight (at least once: SMTP cannot be asked), each counted.
    """
    lines = ledger(rows, provider, mail_dir)
    assert len({line.key for line in lines}) == len(lines), "one row per (episode, milestone)"
    figures = Figures(fault=_run_name(fault), due=len(lines), notes=notes or {})
    problems = []
    for line in lines:
        figures.raw_calls += line.raw_calls
        figures.interrupted_attempts += line.interrupted
        figures.reconciled += line.reconciled
        repeats = max(line.raw_calls - 1, 0)
        figures.raw_repeats += repeats
        figures.repeats_explained += min(repeats, line.interrupted)
        if line.reminder in stale:
            figures.skipped_stale += line.status == "skipped" and line.raw_calls == 0
            if line.status != "skipped" or line.raw_calls:
                problems.append(f"{line}: more than 7 days late, must be skipped and not sent")
            continue
        if line.delivered == 0:
            figures.lost += 1
            problems.append(f"{line}: lost")
            continue
        if line.delivered > 1:
            figures.duplicated += 1
            if line.channel == "sms":
                figures.duplicated_sms += 1
                problems.append(f"{line}: {line.delivered} SMS on the patient's phone")
            else:
                figures.duplicated_email += 1
        if line.status != "sent":
            problems.append(f"{line}: delivered but the row says {line.status}")
        elif line.delivered == 1:
            figures.delivered_once += 1
        if repeats > line.interrupted:
            problems.append(f"{line}: {repeats} raw repeats, only {line.interrupted} explained")
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIGURES_DIR / f"{figures.fault}.json").write_text(json.dumps(asdict(figures), indent=2))
    assert not problems, "\n".join(problems)
    assert figures.repeats_explained == figures.raw_repeats
    return figures
