"""Every shell block of README.md runs as written (tests/readme.py finds them).

- "Two commands": `make run` runs here in the background: the web answers, the worker and
  beat run; Ctrl-C (SIGINT to its process group) stops every process. `make test` cannot run
  inside itself: CI is what runs that line (`.ci/run`), and this checks that it does.
- "FHIR": tests/interop/test_fhir_auth.py runs it against a live server.
- "Running the pieces separately": runs here on production settings, each line as written
  but for the placeholders (`_fill_in`), the servers in the background.

Each run gets a database of its own, created empty on the test database's server and
dropped afterwards, and a Redis of its own on a spare port: only this run's worker can
answer /healthz's ping, and nothing this run's beat sends reaches the test session's Redis.
Migrating the empty database is most of each run's time.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from psycopg import sql

from ops.heartbeats import BEAT, job_names
from ops.models import Heartbeat
from tests.chaos.harness import PrivateRedis
from tests.processes import database_url_for_worker, free_port, stop
from tests.readme import RUNNERS, shell_block, shell_blocks

BASE_DIR = Path(settings.BASE_DIR)
# Generous: an empty database's migrations take most of a minute on a busy machine.
START_TIMEOUT_SECONDS = 240
STOP_TIMEOUT_SECONDS = 60
# Beat sends its first task one interval after it starts (sweep-subscriptions, 15 s).
BEAT_TIMEOUT_SECONDS = 90
# What README.md's production block allows; gunicorn is asked as that host.
PRODUCTION_HOST = "careflow.example.org"
HEARTBEATS = Heartbeat._meta.db_table  # noqa: SLF001 - Django's documented model metadata
PERIODIC_TASKS = PeriodicTask._meta.db_table  # noqa: SLF001 - same


# -- which block is run where ----------------------------------------------------------------


def test_every_shell_block_in_the_readme_has_a_runner():
    headings = [block.heading for block in shell_blocks()]
    assert sorted(headings) == sorted(RUNNERS), (
        "README.md's shell blocks (by heading) and tests/readme.py's RUNNERS differ: "
        "a block without a runner, or a runner whose block is gone"
    )
    for heading, runner in RUNNERS.items():
        assert f'shell_block("{heading}")' in (BASE_DIR / runner).read_text(), (
            f"{runner} does not run README's block under {heading!r}"
        )


# -- shared: a database and a Redis of the run's own, what the processes left in them -------


@pytest.fixture
def empty_database() -> Iterator[str]:
    """DATABASE_URL of a new, empty database on the test database's server; dropped after."""
    name = f"{connection.settings_dict['NAME']}_readme_{uuid.uuid4().hex[:8]}"
    server = database_url_for_worker({**connection.settings_dict, "NAME": "postgres"})
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url_for_worker({**connection.settings_dict, "NAME": name})
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_redis(tmp_path) -> Iterator[PrivateRedis]:
    broker = PrivateRedis(tmp_path / "redis")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _names(database_url: str, table: str) -> set[str]:
    """The ``name`` column of a table in the run's own database."""
    query = sql.SQL("SELECT name FROM {}").format(sql.Identifier(table))
    with psycopg.connect(database_url) as conn:
        return {name for (name,) in conn.execute(query)}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and body, without following a redirect."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_: object) -> None:
            return None

    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http://127.0.0.1
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _wait_until_healthy(url: str, headers: dict[str, str], alive, log: Path) -> dict:
    """/healthz's 200 body: the web answers, and so do the database, Redis and a worker."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if not alive():
            pytest.fail(f"a process exited before /healthz answered 200:\n{log.read_text()}")
        with suppress(OSError):
            status, _, body = _get(url, headers)
            if status == 200:
                return json.loads(body)
            last = f"{status} {body}"
        time.sleep(0.5)
    pytest.fail(f"/healthz did not answer 200 within {START_TIMEOUT_SECONDS} s ({last})")


def _wait_for_beat_and_a_job(database_url: str) -> set[str]:
    """Beat wrote its schedule and sent a job, and a worker ran it: the heartbeats say so.

    Beat stamps ``beat`` when it sends a task; each beat job stamps its entry's name when a
    worker has run it (ops/celery_hooks.py).
    """
    deadline = time.monotonic() + BEAT_TIMEOUT_SECONDS
    stamped: set[str] = set()
    while time.monotonic() < deadline:
        with suppress(psycopg.Error):
            stamped = _names(database_url, HEARTBEATS)
        if BEAT in stamped and stamped & set(job_names()):
            break
        time.sleep(0.5)
    assert BEAT in stamped, "beat sent no task"
    assert stamped & set(job_names()), f"no worker ran a task beat sent (stamped: {stamped})"
    assert set(settings.CELERY_BEAT_SCHEDULE) <= _names(database_url, PERIODIC_TASKS)
    return stamped


def _process_env(**overrides: str) -> dict[str, str]:
    """The test run's environment without its own settings, database, Redis and port."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "PORT"}
    }
    return {**env, "PYTHONUNBUFFERED": "1", **overrides}


# -- "Running the pieces separately" -------------------------------------------------------

# The README's lines that start a server, which run in the background here: gunicorn is
# asked a request, the worker and beat are shown to have run a task by the heartbeats.
SERVER_LINE = re.compile(r"^\.venv/bin/(gunicorn config\.wsgi|celery -A config (worker|beat)) ")
# The lines that run to their end, in order, before the servers start.
ONE_SHOT_LINE = re.compile(r"^\.venv/bin/python manage\.py (migrate|collectstatic) --noinput\b")


def _fill_in(block: str, *, database_url: str, redis_url: str, port: int) -> str:
    """The block with its placeholders filled in; nothing else changes.

    - ``DJANGO_SECRET_KEY=...``: a random secret (secrets.token_urlsafe);
    - ``DATABASE_URL=postgres://...``: the run's empty database (`empty_database`);
    - ``REDIS_URL=redis://...``: the run's own Redis (`own_redis`);
    - ``--bind 0.0.0.0:8000``: a free port instead of 8000 (which `make run` may hold).

    ``DJANGO_ALLOWED_HOSTS=careflow.example.org`` stays: requests are sent with that Host.
    """
    filled = {
        "DJANGO_SECRET_KEY=...": f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
        "DATABASE_URL=postgres://...": f"DATABASE_URL={shlex.quote(database_url)}",
        "REDIS_URL=redis://...": f"REDIS_URL={shlex.quote(redis_url)}",
        "--bind 0.0.0.0:8000": f"--bind 0.0.0.0:{port}",
    }
    for placeholder, value in filled.items():
        assert block.count(placeholder) == 1, f"README's block no longer has {placeholder}"
        block = block.replace(placeholder, value)
    assert "..." not in block, "README's block has a placeholder this test does not fill in"
    return block


def _lines(block: str) -> tuple[str, list[str], list[str]]:
    """(the export line, the one-shot lines, the server lines); any other line fails."""
    lines = [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    export, *rest = lines
    assert export.startswith("export "), "README's block no longer starts with its export"
    one_shot = [line for line in rest if ONE_SHOT_LINE.match(line)]
    servers = [line for line in rest if SERVER_LINE.match(line)]
    unknown = [line for line in rest if line not in one_shot and line not in servers]
    assert unknown == [], f"README's block has lines this test does not know how to run: {unknown}"
    assert rest == one_shot + servers, "the servers start after migrate and collectstatic"
    assert len(servers) == 3, "gunicorn, a worker and beat"
    return export, one_shot, servers


def test_running_the_pieces_separately_as_written(empty_database, own_redis, tmp_path):
    port = free_port()
    block = _fill_in(
        shell_block("Running the pieces separately"),
        database_url=empty_database,
        redis_url=own_redis.url,
        port=port,
    )
    export, one_shot, servers = _lines(block)
    for line in one_shot:
        done = subprocess.run(
            ["/bin/bash", "-euo", "pipefail", "-c", f"{export}\n{line}"],
            cwd=BASE_DIR,
            env=_process_env(),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"

    log = tmp_path / "servers.log"
    processes: list[subprocess.Popen] = []
    try:
        with log.open("ab") as out:
            processes = [
                subprocess.Popen(
                    ["/bin/bash", "-euo", "pipefail", "-c", f"{export}\nexec {line}"],
                    cwd=BASE_DIR,
                    env=_process_env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                for line in servers
            ]
        web = f"http://127.0.0.1:{port}"
        as_proxied = {"Host": PRODUCTION_HOST}
        health = _wait_until_healthy(
            f"{web}/healthz",
            as_proxied,
            lambda: all(p.poll() is None for p in processes),
            log,
        )
        # Only this run's worker is on its Redis: it answered /healthz's ping.
        assert health["checks"]["celery"] == {"ok": True, "workers": 1}
        # Production settings: plain HTTP is sent to HTTPS; through the TLS proxy (which sets
        # X-Forwarded-Proto) the sign-in page is served.
        login = reverse("workspace:login")
        status, headers, _ = _get(f"{web}{login}", as_proxied)
        assert (status, headers["Location"]) == (301, f"https://{PRODUCTION_HOST}{login}")
        status, _, page = _get(f"{web}{login}", {**as_proxied, "X-Forwarded-Proto": "https"})
        assert status == 200
        assert 'name="password"' in page
        _wait_for_beat_and_a_job(empty_database)
    finally:
        for process in processes:
            stop(process)  # SIGTERM: gunicorn's graceful stop, Celery's warm shutdown
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # a child it left behind, if any
    assert [p.returncode for p in processes] == [0, 0, 0], log.read_text()


# -- "Two commands" -------------------------------------------------------------------------


def _two_commands() -> list[str]:
    lines = [line.split("#")[0].strip() for line in shell_block("Two commands").splitlines()]
    return [line for line in lines if line]


def test_the_two_commands_are_make_run_and_make_test():
    assert _two_commands() == ["make run", "make test"]


def test_ci_runs_make_test():
    """`make test` runs the suite this test is part of: CI runs that line, in `.ci/run`."""
    ci = (BASE_DIR / ".ci/run").read_text().splitlines()
    assert "make test" in [line.split("#")[0].strip() for line in ci]


def test_make_run_as_written(empty_database, tmp_path):
    """`make run` in the background; the web, worker and beat answer; Ctrl-C stops them all.

    Run on an empty database of its own (DATABASE_URL: README's "uses the PostgreSQL that
    DATABASE_URL names"; the embedded one's var/postgres may be `make test`'s own), with
    PORT set to a free port (README: "PORT=8001 make run moves the web server"), REDIS_URL
    naming a free port, so that `make run` starts its private redis-server there, and
    PROMETHEUS_MULTIPROC_DIR in this test's tmp_path (`make run` empties that directory
    before it starts, so not a running `make run`'s var/prometheus).
    """
    line = next(line for line in shell_block("Two commands").splitlines() if "make run" in line)
    port = free_port()
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    log = tmp_path / "make-run.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["/bin/bash", "-c", line],
            cwd=BASE_DIR,
            env=_process_env(
                DATABASE_URL=empty_database,
                REDIS_URL=redis_url,
                PORT=str(port),
                PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        health = _wait_until_healthy(
            f"http://127.0.0.1:{port}/healthz", {}, lambda: process.poll() is None, log
        )
        assert health["checks"]["celery"] == {"ok": True, "workers": 1}
        assert f"http://127.0.0.1:{port}/" in log.read_text()  # the banner names the port
        _wait_for_beat_and_a_job(empty_database)
    finally:
        # Ctrl-C: SIGINT to the whole foreground process group.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        stopped = _group_is_gone(process)
        if not stopped:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert stopped, f"a process of `make run` outlived Ctrl-C:\n{log.read_text()}"


def _group_is_gone(leader: subprocess.Popen) -> bool:
    """No process is left in the leader's group (honcho stops its children in turn)."""
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        leader.poll()  # reaped, or the exited leader would still count as in the group
        try:
            os.killpg(leader.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False
