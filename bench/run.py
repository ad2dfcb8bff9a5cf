"""Careflow at scale, each figure beside its raw baseline taken in the same run.

``python -m bench.run --episodes 100000`` (``make bench``) or ``--episodes 1000000``
(``make bench-full``). It (re)creates the PostgreSQL databases ``careflow_bench`` and
``careflow_bench_10k``, uses Redis database 9, starts and stops its own gunicorn and Celery
workers on 127.0.0.1, prints a table and writes bench/results/latest.json. What each
figure means: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE = PG_ADMIN.rsplit("/", 1)[0]
# BENCH_DB lets engineers sharing one PostgreSQL keep their bench databases apart.
BIG_DB = os.environ.get("BENCH_DB", "careflow_bench")
SMALL_DB = f"{BIG_DB}_10k"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
BENCH_QUEUE = "bench-reminders"
NOOP_QUEUE = "bench-noop"
SMALL_EPISODES = 10_000
REPEATS = 30
# Rounds of the queue and workspace pages (``interleaved``): their targets divide one p95 by
# another, and of 30 requests the p95 is the second-slowest, one neighbour's busy moment;
# of 100 it is the sixth.
QUEUE_ROUNDS = 100
# Requests to every queue's first page before any is timed: a gunicorn worker's first
# requests pay one-off costs (imports, URL resolver and template caches, the first
# connection's catalogue reads) that a running service has long paid. Without this the
# first queue timed carried them in its p95 (urgent: 24.3 ms against 8-12 ms for the others
# in one quiet run, 30 repeats, the p95 being the second-worst).
WARMUP = 5
# Transitions each client sends before the timed ones (bench_transitions).
WARM_TRANSITIONS = 3
REPORT_REPEATS = 10
# The Celery worker's processes for dispatch (raw Celery and the reminders alike): two, as
# many as the cores; BENCH_WORKERS tries another count (docs/PERFORMANCE.md).
WORKER_PROCESSES = int(os.environ.get("BENCH_WORKERS", "2"))
START_TIMEOUT_S = 60
DRAIN_TIMEOUT_S = 900
QUEUE_PAGE = 25


def bench_env(database: str) -> dict[str, str]:
    """The settings every bench process runs with (local settings, DEBUG off)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        # Production's connections (config/settings/production.py: CONN_MAX_AGE 60, health
        # checks), not local settings' one connection per request: a new PostgreSQL backend
        # per request was ~10 % of a queue page's time.
        # https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
        "DATABASE_URL": f"{PG_BASE}/{database}?conn_max_age=60&conn_health_checks=true",
        "REDIS_URL": REDIS_URL,
        # The no-I/O channels: Django's dummy email backend and the null SMS backend.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "CAREFLOW_SMS_BACKEND": "notifications.channels.sms.NullSmsBackend",
        # Email through the dummy backend in chunks of 20, as Twilio and Postmark are sent:
        # the figures are a chunked channel's. SMTP's own chunk is one email (at most one in
        # doubt after a crash); CAREFLOW_REMINDER_CHUNK_SMTP=1 in the environment measures
        # that (docs/REMINDERS.md).
        "CAREFLOW_REMINDER_CHUNK_SMTP": os.environ.get("CAREFLOW_REMINDER_CHUNK_SMTP", "20"),
        # Quiet hours from 0 to 0 are never: no reminder is deferred by the clock of the run.
        "CAREFLOW_QUIET_HOURS_START": "0",
        "CAREFLOW_QUIET_HOURS_END": "0",
        "CAREFLOW_REMINDER_QUEUE": BENCH_QUEUE,
        # The API's per-user throttle would stop a benchmark, not measure it.
        "CAREFLOW_API_RATE_USER": "100000000/minute",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def say(line: str) -> None:
    sys.stdout.write(f"[bench {time.strftime('%H:%M:%S')}] {line}\n")
    sys.stdout.flush()


def recreate_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def vacuum(database: str) -> None:
    """What autovacuum would have done by now to the tables the dispatch phases churned.

    Run before each timed dispatch phase as well: each phase then reads the garbage of its
    own burst only, as a morning's burst does in production, and not the dead entries the
    phases before it left in the partial indexes (the raw SQL claims alone leave 100 000
    at 1M, at the front of ``reminder_due_scheduled``, where every claim scans past them).

    The dispatch and burst phases update every due row three times and reset them; on a
    server with autovacuum off (this machine's PostgreSQL: ``SHOW autovacuum``) the big
    database then carries a million dead reminder rows into the scan comparison, the small
    one a few thousand, and the ratio measures the bench's own garbage (1.38 at 1M on
    2026-11-26 with 1 066 393 dead rows) rather than the claim's scaling.
    """
    with psycopg.connect(f"{PG_BASE}/{database}", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) notifications_reminder, notifications_deliveryattempt")


def manage(database: str, *args: str) -> None:
    python_module(database, "manage", *args)


def python_module(database: str, module: str, *args: str) -> None:
    """``python -m <module> <args>`` against one bench database (manage, bench.generate)."""
    subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", module, *args], cwd=ROOT, env=bench_env(database), check=True
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def stats_ms(seconds: list[float]) -> dict[str, float]:
    return {
        "p50_ms": statistics.median(seconds) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
    }


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database: str, *, workers: int = 2, threads: int = 4) -> Any:
    port = free_port()
    log = (ROOT / "var" / "bench-gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed argument list
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--worker-class=gthread",
            "--keep-alive=30",
        ],
        cwd=ROOT,
        env=bench_env(database),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                msg = "gunicorn did not start: see var/bench-gunicorn.log"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Worker:
    """A `celery -A bench.celery_app worker` on the bench queues (solo or prefork)."""

    def __init__(self, database: str, *, pool: str, concurrency: int, queues: str) -> None:
        self.hostname = f"bench-{uuid.uuid4().hex[:8]}@careflow-bench"
        self.log_path = ROOT / "var" / f"bench-worker-{self.hostname.split('@')[0]}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "bench.celery_app",
                    "worker",
                    f"--pool={pool}",
                    f"--concurrency={concurrency}",
                    f"--hostname={self.hostname}",
                    f"--queues={queues}",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=bench_env(database),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, app: Any) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            replies = app.control.ping(destination=[self.hostname], timeout=1) or []
            if any(self.hostname in reply for reply in replies):
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                msg = f"celery worker did not start: see {self.log_path}"
                raise RuntimeError(msg)

    def high_water_kib(self) -> int:
        """VmHWM of the worker's processes (the pool children too, for prefork)."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with suppress(OSError):
            pids += [int(p) for p in children.read_text().split()]
        peak = 0
        for pid in pids:
            with suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        return peak

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def workers(database: str, app: Any, *, pool: str, concurrency: int, queues: str) -> Any:
    worker = Worker(database, pool=pool, concurrency=concurrency, queues=queues)
    try:
        worker.wait_ready(app)
        yield worker
    finally:
        worker.stop()


# -- 1. queues ------------------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection to gunicorn, with the user's token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None

    def close(self) -> None:
        self.conn.close()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def timed(fn: Any, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def interleaved(runs: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    """Seconds each of ``runs`` took, one of each per round, every other round in reverse.

    Two figures divided one by the other (a page by its raw SQL, a deep page by the first,
    the workspace's page by the API's) are timed in the same moments of a shared machine,
    and neither always follows the other: timed in blocks of 30 one after the other, a
    neighbour's busy second fell on one side only.
    """
    for run in runs.values():
        run()  # warm: the same cache state the timed rounds see
    order = list(runs.items())
    samples: dict[str, list[float]] = {key: [] for key in runs}
    for round_ in range(rounds):
        for key, run in order if round_ % 2 == 0 else order[::-1]:
            samples[key].extend(timed(run, 1))
    return samples


def warm(client: Any, paths: list[str]) -> None:
    """Each path ``WARMUP`` times, untimed, on the connection the timed requests use."""
    for _ in range(WARMUP):
        for path in paths:
            status, _ = client.request("GET", path)
            if status != 200:
                msg = f"{path}: {status}"
                raise RuntimeError(msg)


def captured_sql(client: Any, path: str, token: str) -> list[str]:
    """The SQL one API request runs, exactly as sent (psycopg binds client-side)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
    if response.status_code != 200:
        msg = f"{path}: {response.status_code}"
        raise RuntimeError(msg)
    return [q["sql"] for q in ctx.captured_queries]


def raw_run(conn: psycopg.Connection, statements: list[str], *, prepare: bool = False) -> None:
    """The statements one request ran, re-run in order through a bare psycopg connection.

    ``prepare=False`` (the baseline the ratios use): each statement parsed and planned on
    every run, as every API request's are. The API sends its statements through Django's
    client-side-binding cursor, never prepared, and a page's text is never the same twice
    (its ``now``, its cursor). Repeated through psycopg's default connection the identical
    literal text is prepared from its sixth run (``prepare_threshold``), and most runs
    would skip a planning no API request can skip (the page's: ~0.25 of its ~0.5 ms on the
    server). ``prepare=True`` is that prepared figure, kept beside it
    (``raw_prepared_p95_ms``).
    """
    with conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, prepare=prepare)
            # The read records' INSERT returns no rows to fetch.
            if cursor.description is not None:
                cursor.fetchall()


def deep_path_of(http_: Any, name: str, deep_rows: int) -> tuple[str | None, int]:
    """A 25-row page's path ``deep_rows`` into a queue, and the rows walked to reach it.

    Reached by the queue's ``next`` cursors, 100 rows a page, as a client holding that
    cursor would ask for it.
    """
    seen, walk, deep_path = 0, f"/api/queues/{name}/?page_size=100", None
    while seen < deep_rows:
        _, page = http_.request("GET", walk)
        seen += len(page["results"])
        if not page["next"]:
            break
        walk = path_of(page["next"])
        deep_path = walk.replace("page_size=100", f"page_size={QUEUE_PAGE}")
    return deep_path, seen


def bench_queues(port: int, token: str, deep_rows: int) -> dict[str, Any]:
    """Each queue's first and deep page through the API, and their statements raw.

    The six timings of a queue (first and deep page through HTTP; their statements raw,
    unprepared and prepared) are taken in turn (``interleaved``), one of each per round,
    ``QUEUE_ROUNDS`` rounds, every other round in reverse order: each ratio's two sides then
    see the same moments of a shared machine, and neither always follows the other kind of
    request. Timed one after
    the other in blocks of 30, a neighbour's busy second fell on one side only, and the
    deep ÷ first ratio of two equal pages (the same p50s) read 1.3 to 1.7.
    """
    from django.test import Client

    from episodes.selectors import QUEUES

    client = Client(HTTP_HOST="127.0.0.1")
    http_ = Http(port, token)
    raw = psycopg.connect(f"{PG_BASE}/{BIG_DB}", autocommit=True)
    per_queue: dict[str, Any] = {}
    try:
        warm(http_, [f"/api/queues/{name}/?page_size={QUEUE_PAGE}" for name in QUEUES])
        for name in QUEUES:
            first_path = f"/api/queues/{name}/?page_size={QUEUE_PAGE}"
            status, _ = http_.request("GET", first_path)
            if status != 200:
                msg = f"{first_path}: {status}"
                raise RuntimeError(msg)
            deep_path, seen = deep_path_of(http_, name, deep_rows)
            depth = seen if deep_path else 0
            deep_path = deep_path or first_path
            statements = {
                "first": captured_sql(client, first_path, token),
                "deep": captured_sql(client, deep_path, token),
            }
            paths = {"first": first_path, "deep": deep_path}
            samples = interleaved(
                {
                    **{f"{k}_api": partial(http_.request, "GET", p) for k, p in paths.items()},
                    **{f"{k}_raw": partial(raw_run, raw, s) for k, s in statements.items()},
                    **{
                        f"{k}_prepared": partial(raw_run, raw, s, prepare=True)
                        for k, s in statements.items()
                    },
                },
                QUEUE_ROUNDS,
            )
            per_queue[name] = {
                "rows_seen": seen,
                **{
                    k: {
                        **stats_ms(samples[f"{k}_api"]),
                        "raw_p95_ms": percentile(samples[f"{k}_raw"], 0.95) * 1000,
                        "raw_p50_ms": statistics.median(samples[f"{k}_raw"]) * 1000,
                        "raw_prepared_p95_ms": percentile(samples[f"{k}_prepared"], 0.95) * 1000,
                        "raw_prepared_p50_ms": statistics.median(samples[f"{k}_prepared"]) * 1000,
                    }
                    for k in paths
                },
            }
            per_queue[name]["deep"]["depth_rows"] = depth
            say(
                f"queue {name}: p95 {per_queue[name]['first']['p95_ms']:.1f} ms,"
                f" deep ({depth} rows) {per_queue[name]['deep']['p95_ms']:.1f} ms"
            )
    finally:
        http_.close()
        raw.close()
    firsts = [q["first"] for q in per_queue.values()]
    deeps = [q["deep"] for q in per_queue.values()]
    return {
        "page_size": QUEUE_PAGE,
        "repeats": QUEUE_ROUNDS,
        "client": "http.client keep-alive to gunicorn (2 gthread workers x 4 threads)",
        "api_p95_ms": max(f["p95_ms"] for f in firsts),
        "raw_sql_p95_ms": max(f["raw_p95_ms"] for f in firsts),
        "deep_page_p95_ms": max(d["p95_ms"] for d in deeps),
        "api_vs_raw_worst": max(
            max(f["p95_ms"] / f["raw_p95_ms"], d["p95_ms"] / d["raw_p95_ms"])
            for f, d in zip(firsts, deeps, strict=True)
        ),
        "deep_vs_first_worst": max(
            d["p95_ms"] / f["p95_ms"] for f, d in zip(firsts, deeps, strict=True)
        ),
        # The same ratio against the old baseline (the raw statements prepared; raw_run).
        "api_vs_raw_prepared_worst": max(
            max(f["p95_ms"] / f["raw_prepared_p95_ms"], d["p95_ms"] / d["raw_prepared_p95_ms"])
            for f, d in zip(firsts, deeps, strict=True)
        ),
        "per_queue": per_queue,
    }


# -- 1b. the workspace's pages beside the API's ------------------------------------------------


class HtmlHttp(Http):
    """The same keep-alive connection, signed in with a session cookie, reading HTML.

    A ``body`` is sent as a form, with the CSRF token (``csrf``) a page would carry.
    """

    def __init__(self, port: int, session: str, csrf: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookie = f"sessionid={session}" + (f"; csrftoken={csrf}" if csrf else "")
        self.headers = {"Cookie": cookie, "Host": "127.0.0.1"}
        self.csrf = csrf

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        headers, data = dict(self.headers), None
        if body is not None:
            data = urlencode({"csrfmiddlewaretoken": self.csrf, **body})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def bench_workspace(port: int, token: str) -> dict[str, Any]:
    """Each queue page, two episode pages and the header search as HTML, p95 beside the API's.

    Each HTML page and its API request are timed in the same rounds (``interleaved``). The
    search (a POST, as the header's form sends it) by a patient's family name and by a date
    of birth, beside the API's ``POST /api/patients/_search`` for the same words.
    """
    from django.contrib.auth import get_user_model
    from django.test import Client

    from episodes.selectors import QUEUES, patient_list_for, queue_episodes

    user = get_user_model().objects.get(username="bench-coordinator-1-1")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get("/")  # the page's forms set the CSRF cookie
    html = HtmlHttp(port, client.cookies["sessionid"].value, client.cookies["csrftoken"].value)
    api = Http(port, token)
    pages: dict[str, Any] = {}
    try:
        warm(html, [f"/queues/{name}/" for name in QUEUES])
        for name in QUEUES:
            path = f"/queues/{name}/"
            status, _ = html.request("GET", path)
            if status != 200:
                msg = f"{path}: {status}"
                raise RuntimeError(msg)
            api_path = f"/api/queues/{name}/?page_size={QUEUE_PAGE}"
            samples = interleaved(
                {
                    "page": partial(html.request, "GET", path),
                    "api": partial(api.request, "GET", api_path),
                },
                QUEUE_ROUNDS,
            )
            page, api_p95 = stats_ms(samples["page"]), stats_ms(samples["api"])["p95_ms"]
            pages[name] = {**page, "api_p95_ms": api_p95, "ratio": page["p95_ms"] / api_p95}
            say(f"workspace queue {name}: p95 {page['p95_ms']:.1f} ms (API {api_p95:.1f} ms)")
        episodes = {
            "urgent": queue_episodes("urgent", user=user).first(),
            "ordinary": queue_episodes("due_soon", user=user).first(),
        }
        for kind, episode in episodes.items():
            if episode is None:
                continue
            path, api_path = f"/episodes/{episode.pk}/", f"/api/episodes/{episode.pk}/"
            if html.request("GET", path)[0] != 200:
                msg = f"{path}: not 200"
                raise RuntimeError(msg)
            samples = interleaved(
                {
                    "page": partial(html.request, "GET", path),
                    "api": partial(api.request, "GET", api_path),
                },
                REPEATS,
            )
            page, api_page = stats_ms(samples["page"]), stats_ms(samples["api"])
            pages[f"episode_{kind}"] = {**page, "api_p95_ms": api_page["p95_ms"]}
            say(
                f"workspace episode ({kind}): p95 {page['p95_ms']:.1f} ms"
                f" (API {api_page['p95_ms']:.1f} ms)"
            )
        someone = patient_list_for(user).order_by("id").first()
        searches = {
            "name": someone.family_name,
            "birth_date": someone.birth_date.strftime("%d/%m/%Y"),
        }
        for kind, words in searches.items():
            status, _ = html.request("POST", "/search/", {"q": words})
            if status != 200:
                msg = f"/search/ ({kind}): {status}"
                raise RuntimeError(msg)
            samples = interleaved(
                {
                    "page": partial(html.request, "POST", "/search/", {"q": words}),
                    "api": partial(api.request, "POST", "/api/patients/_search", {"q": words}),
                },
                REPEATS,
            )
            page, api_page = stats_ms(samples["page"]), stats_ms(samples["api"])
            pages[f"search_{kind}"] = {**page, "api_p95_ms": api_page["p95_ms"]}
            say(
                f"workspace search ({kind}): p95 {page['p95_ms']:.1f} ms"
                f" (API {api_page['p95_ms']:.1f} ms)"
            )
    finally:
        html.close()
        api.close()
    queue_ratios = [
        v["ratio"] for k, v in pages.items() if not k.startswith(("episode_", "search_"))
    ]
    episode_p95 = [v["p95_ms"] for k, v in pages.items() if k.startswith("episode_")]
    search_p95 = [v["p95_ms"] for k, v in pages.items() if k.startswith("search_")]
    return {
        "search_p95_ms_worst": max(search_p95, default=0.0),
        "repeats": QUEUE_ROUNDS,
        "episode_repeats": REPEATS,
        "queue_page_vs_api_p95_worst": max(queue_ratios),
        "episode_page_p95_ms_worst": max(episode_p95, default=0.0),
        "pages": pages,
    }


def bench_report(port: int, token: str, team_id: int) -> dict[str, Any]:
    """The adherence report for one team over a year and over its last quarter (API, JSON).

    Live first (every rollup outdated: the raw baseline, every row read), then beat's
    refresh once (timed), then from the rollups and the rest read live; the two answers
    must be the same JSON. The quarter beside the year shows whether the cost follows the
    team's episodes in range.
    """
    from datetime import timedelta

    from django.utils import timezone

    from episodes.models import Episode
    from episodes.reports import Scope
    from reports.models import Rollup, RollupChange
    from reports.rollups import current_rollups, rollups_refresh

    api = Http(port, token)
    today = timezone.localdate()
    # A change row per rollup: every month reads live, and the refresh below redoes them all.
    RollupChange.objects.bulk_create(
        RollupChange(care_team_id=team, month=month)
        for team, month in Rollup.objects.values_list("care_team_id", "month")
    )
    paths = {}
    for label, days in (("year", 365), ("quarter", 91)):
        start = today - timedelta(days=days - 1)
        paths[label] = (
            start,
            f"/api/reports/adherence/?care_team={team_id}&from={start}&to={today}",
        )
    out: dict[str, Any] = {"repeats": REPORT_REPEATS}
    try:
        bodies = {}
        for label, (_start, path) in paths.items():
            status, bodies[label] = api.request("GET", path)
            if status != 200:
                msg = f"{path}: {status}"
                raise RuntimeError(msg)
            live = stats_ms(timed(lambda p=path: api.request("GET", p), REPORT_REPEATS))
            out[label] = {"live_p50_ms": live["p50_ms"], "live_p95_ms": live["p95_ms"]}
        t0 = time.monotonic()
        refreshed = rollups_refresh(seconds=None)
        out["refresh_s"] = time.monotonic() - t0
        out["refresh_months"] = len(refreshed.rolled_up)
        say(f"rollups refreshed: {len(refreshed.rolled_up)} months in {out['refresh_s']:.1f} s")
        # A new connection: the refresh may outlast gunicorn's keep-alive (30 s).
        api.close()
        api = Http(port, token)
        for label, (start, path) in paths.items():
            status, body = api.request("GET", path)
            if status != 200 or body != bodies[label]:
                msg = f"{path}: the report from rollups differs from the live one"
                raise RuntimeError(msg)
            episodes = Episode.objects.filter(
                care_team_id=team_id, enrolled_on__gte=start, enrolled_on__lte=today
            ).count()
            stored = current_rollups(Scope((team_id,), start, today))
            page = stats_ms(timed(lambda p=path: api.request("GET", p), REPORT_REPEATS))
            out[label] |= {
                **page,
                "episodes": episodes,
                "from_rollups": sum(
                    t["episodes"][0][-1] for _, _, t in stored if t.get("episodes")
                ),
                "rollup_months": len(stored),
                "ms_per_1k": page["p95_ms"] / episodes * 1000,
            }
            say(
                f"adherence report, {label}: {episodes:,} episodes"
                f" ({out[label]['from_rollups']:,} from {len(stored)} monthly rollups),"
                f" p95 {page['p95_ms']:.0f} ms; live {out[label]['live_p95_ms']:.0f} ms"
            )
    finally:
        api.close()
    out["p95_ms"] = out["year"]["p95_ms"]
    out["live_p95_ms"] = out["year"]["live_p95_ms"]
    return out


# -- 2. dispatch ----------------------------------------------------------------------------


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL)


def wait_drained(queue: str) -> None:
    """Until the queue is empty and nothing is unacknowledged (kombu's 'unacked' hash)."""
    r = redis_client()
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while r.llen(queue) or r.hlen("unacked"):
        if time.monotonic() > deadline:
            msg = f"{queue} did not drain"
            raise RuntimeError(msg)
        time.sleep(0.02)


def raw_sql_claims(ids: list[int], batch: int) -> float:
    """The database's ceiling: claim-and-mark in batches, one transaction each; rows/s."""
    from bench.probe import reset_due

    with psycopg.connect(f"{PG_BASE}/{BIG_DB}") as conn:
        with conn.cursor() as cursor:
            reset_due(cursor, ids)
        conn.commit()
        claimed, started = 0, time.perf_counter()
        while True:
            with conn.cursor() as cursor:
                cursor.execute(
                    "UPDATE notifications_reminder SET status = 'sending', claim_token = %s,"
                    " lease_expires_at = now() + interval '5 minutes', updated_at = now()"
                    " WHERE id IN (SELECT id FROM notifications_reminder"
                    " WHERE status = 'scheduled' AND next_attempt_at <= now()"
                    " ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED LIMIT %s)"
                    " RETURNING id",
                    [uuid.uuid4().hex, batch],
                )
                got = len(cursor.fetchall())
            conn.commit()
            if not got:
                break
            claimed += got
        elapsed = time.perf_counter() - started
        with conn.cursor() as cursor:
            reset_due(cursor, ids)
        conn.commit()
    return claimed / elapsed


def raw_celery(count: int) -> float:
    """``count`` no-op tasks, one message each, published and consumed; tasks/s."""
    from bench.celery_app import noop

    started = time.perf_counter()
    for index in range(count):
        noop.apply_async(args=[index], queue=NOOP_QUEUE)
    wait_drained(NOOP_QUEUE)
    return count / (time.perf_counter() - started)


# How long the bench's dispatcher waits after a cycle that found no room, before the next.
NO_ROOM_PAUSE_S = 0.1


def dispatch_end_to_end(ids: list[int]) -> dict[str, Any]:
    """Beat's cycle back to back in this process until nothing is due; workers deliver.

    Each cycle (``drain_due``) claims up to the in-flight ceiling; the workers deliver and
    claim a batch in the place of each one they finish (``top_up``). A cycle that found no
    room waits ``NO_ROOM_PAUSE_S`` before the next, so the loop does not take a core from
    the workers it measures. ``claimed`` counts the cycles' claims, not the top-ups'.
    """
    from django.db import connection
    from django.utils import timezone

    from notifications.delivery.claims import drain_due, due_rows
    from notifications.tasks import _enqueue_delivery

    with connection.cursor() as cursor:
        from bench.probe import reset_due

        reset_due(cursor, ids)
    started = time.perf_counter()
    cycles = claimed = 0
    while True:
        counts = drain_due(enqueue=_enqueue_delivery)
        cycles += 1
        claimed += counts.claimed
        if not counts.batches:
            if not due_rows(timezone.now()).exists():
                break
            time.sleep(NO_ROOM_PAUSE_S)
    dispatched = time.perf_counter() - started
    wait_drained(BENCH_QUEUE)
    elapsed = time.perf_counter() - started
    by_status = statuses_of(ids)
    return {
        "due": len(ids),
        "claimed": claimed,
        "cycles": cycles,
        "dispatcher_s": dispatched,
        "elapsed_s": elapsed,
        "by_status": by_status,
        "reminders_per_s": by_status.get("sent", 0) / elapsed,
    }


def statuses_of(ids: list[int]) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM notifications_reminder WHERE id = ANY(%s) GROUP BY 1",
            [ids],
        )
        return dict(cursor.fetchall())


def wait_all_sent(ids: list[int], timeout_s: float = DRAIN_TIMEOUT_S) -> datetime:
    """Until no row of ``ids`` is scheduled or sending; when the last of them was sent.

    Polled every 0.1 s with two ``LIMIT 1`` reads of the partial indexes: is anything
    ``sending``, is anything ``scheduled`` and due (``make_due`` parked every other row, so
    only the burst's rows can answer). It was a ``count(*)`` over the burst's ids every
    20 ms: 63-70 ms each at 50k, most of one core of the two taken from the workers it
    measured (pg_stat_statements, 2026-11-26). The drain's end is the last ``sent_at``,
    so the poll's interval does not add to it; the ids are checked once at the end.
    """
    # prepare_threshold=None: no generic plan (a generic plan chose a sequential scan).
    with psycopg.connect(f"{PG_BASE}/{BIG_DB}", autocommit=True, prepare_threshold=None) as conn:
        deadline = time.monotonic() + timeout_s
        while True:
            busy = (
                conn.execute(
                    "SELECT 1 FROM notifications_reminder WHERE status = 'sending'"
                    " ORDER BY lease_expires_at, id LIMIT 1"
                ).fetchone()
                or conn.execute(
                    "SELECT 1 FROM notifications_reminder WHERE status = 'scheduled'"
                    " AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 1"
                ).fetchone()
            )
            if not busy:
                left, last_sent = conn.execute(
                    "SELECT count(*) FILTER (WHERE status IN ('scheduled', 'sending')),"
                    " max(sent_at) FROM notifications_reminder WHERE id = ANY(%s)",
                    [ids],
                ).fetchone()
                if not left:
                    return last_sent
            if time.monotonic() > deadline:
                msg = "the burst did not drain"
                raise RuntimeError(msg)
            time.sleep(0.1)


def burst_through_beat(ids: list[int]) -> dict[str, Any]:
    """``ids`` due at once; one beat tick (the task beat sends) and nothing else.

    The cycle runs in a worker, claims up to the in-flight ceiling, and every finished
    batch claims the next: the time until the last row is ``sent`` is the burst's drain.
    """
    from django.db import connection

    from bench.probe import reset_due
    from notifications.tasks import enqueue_dispatch

    with connection.cursor() as cursor:
        reset_due(cursor, ids)
    started = datetime.now(UTC)
    enqueue_dispatch()  # what beat publishes every minute
    elapsed = (wait_all_sent(ids) - started).total_seconds()
    by_status = statuses_of(ids)
    return {"burst_due": len(ids), "burst_drain_s": elapsed, "burst_by_status": by_status}


# How far into the burst the alert is raised: a fifth of its rows sent.
ALERT_AFTER_SHARE = 0.2


def alert_during_burst(ids: list[int]) -> dict[str, Any]:
    """The burst again, and a red flag raised once a fifth of it is sent: when its alert goes.

    The flag is raised through the service a user's request calls, on an episode of
    another team outside the burst (team 1's episodes are the transitions'), so its alert
    (``red_flag_alert_schedule``) is created and its dispatch asked for as in production.
    Reported: the burst's rows sent after the alert was created and before it was sent (and
    that in batches, ``CAREFLOW_REMINDER_BATCH_SIZE``), and its latency, creation to send.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench.probe import reset_due
    from episodes.services import red_flag_raise
    from notifications.models import RED_FLAG_MILESTONE_PREFIX, Reminder
    from notifications.tasks import enqueue_dispatch

    by = get_user_model().objects.get(username="bench-coordinator-2-1")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id FROM episodes_episode e JOIN episodes_careteam t ON t.id = e.care_team_id"
            " WHERE t.name = 'Bench team 2' AND e.state = 'conservative_care' AND NOT EXISTS"
            " (SELECT 1 FROM notifications_reminder r WHERE r.episode_id = e.id"
            " AND r.id = ANY(%s)) ORDER BY e.id LIMIT 1",
            [ids],
        )
        (episode_id,) = cursor.fetchone()
        reset_due(cursor, ids)
    enqueue_dispatch()  # what beat publishes every minute
    mark = ids[int(len(ids) * ALERT_AFTER_SHARE)]
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while Reminder.objects.filter(pk=mark).values_list("status", flat=True).get() != "sent":
        if time.monotonic() > deadline:
            msg = "the burst did not reach the alert's moment"
            raise RuntimeError(msg)
        time.sleep(0.005)
    flag = red_flag_raise(episode_id=episode_id, sign="saddle_anesthesia", by=by)
    alert = Reminder.objects.get(
        episode_id=episode_id, milestone=f"{RED_FLAG_MILESTONE_PREFIX}{flag.pk}"
    )
    wait_all_sent([*ids, alert.pk])
    alert.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE sent_at <= %s),"
            " count(*) FILTER (WHERE sent_at > %s AND sent_at < %s)"
            " FROM notifications_reminder WHERE id = ANY(%s)",
            [alert.created_at, alert.created_at, alert.sent_at, ids],
        )
        sent_before, sent_between = cursor.fetchone()
    return {
        "alert_status": alert.status,
        "rows_sent_before_the_alert_was_raised": sent_before,
        "rows_sent_after_it_was_raised_before_it": sent_between,
        "batches_sent_after_it_was_raised_before_it": (
            sent_between / settings.CAREFLOW_REMINDER_BATCH_SIZE
        ),
        "latency_ms": (alert.sent_at - alert.created_at).total_seconds() * 1000,
    }


def bench_dispatch(app: Any, due: int) -> dict[str, Any]:
    """2.: raw SQL claims, raw Celery, end to end, and a burst through beat's path."""
    from django.db import connection

    from bench.probe import make_due, park_due

    with connection.cursor() as cursor:
        ids = make_due(cursor, due)
    vacuum(BIG_DB)
    batch = 20
    sql_20 = raw_sql_claims(ids, batch)
    sql_1000 = raw_sql_claims(ids, 1000)
    say(f"raw SQL claims: {sql_20:.0f}/s (batch {batch}), {sql_1000:.0f}/s (batch 1000)")
    with workers(
        BIG_DB,
        app,
        pool="prefork",
        concurrency=WORKER_PROCESSES,
        queues=f"{BENCH_QUEUE},{NOOP_QUEUE}",
    ):
        celery_per_s = raw_celery(len(ids))
        say(f"raw Celery: {celery_per_s:.0f} no-op tasks/s")
        # Each timed phase starts from the garbage of its own burst only (``vacuum``).
        vacuum(BIG_DB)
        e2e = dispatch_end_to_end(ids)
        say(f"dispatch: {e2e['reminders_per_s']:.0f} reminders/s {e2e['by_status']}")
        vacuum(BIG_DB)
        burst = burst_through_beat(ids)
        say(f"burst of {len(ids)} through beat: {burst['burst_drain_s']:.1f} s")
        vacuum(BIG_DB)
        alert = alert_during_burst(ids)
        say(
            f"an alert raised after {alert['rows_sent_before_the_alert_was_raised']} rows of the"
            f" burst: sent after {alert['rows_sent_after_it_was_raised_before_it']} more"
            f" ({alert['batches_sent_after_it_was_raised_before_it']:.1f} batches),"
            f" {alert['latency_ms']:.0f} ms"
        )
    with connection.cursor() as cursor:
        park_due(cursor)
    return {
        **e2e,
        **burst,
        "alert_in_burst": alert,
        "raw_celery_per_s": celery_per_s,
        "raw_sql_claims_per_s": sql_20,
        "raw_sql_batch": batch,
        "raw_sql_claims_per_s_batch_1000": sql_1000,
        "workers": WORKER_PROCESSES,
        "load_average": os.getloadavg(),
    }


# -- 3./4. scan and memory (subprocesses) ---------------------------------------------------


def probe(database: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "-m", "bench.probe", *args],
        cwd=ROOT,
        env=bench_env(database),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_at(app: Any, due: int) -> tuple[dict[str, Any], int]:
    """One real cycle with ``due`` rows due, and a fresh solo worker delivering its batches."""
    with workers(BIG_DB, app, pool="solo", concurrency=1, queues=BENCH_QUEUE) as worker:
        dispatcher = probe(BIG_DB, "dispatcher-memory", "--due", str(due))
        wait_drained(BENCH_QUEUE)
        return dispatcher, worker.high_water_kib()


# -- 5. transitions -------------------------------------------------------------------------


def bench_transitions(port: int, token: str, team_id: int, count: int, clients: int) -> dict:
    from django.db.models import Count

    from episodes.models import Episode, TransitionLog

    picked = list(
        Episode.objects.filter(care_team_id=team_id, state="conservative_care")
        .order_by("id")
        .values_list("id", "version")[: count + 100 + WARM_TRANSITIONS * clients]
    )
    work, races = picked[:count], picked[count : count + 100]
    warm = picked[count + 100 :]
    before_logs = dict(
        TransitionLog.objects.filter(episode_id__in=[e for e, _ in picked])
        .values_list("episode_id")
        .annotate(n=Count("id"))
    )
    statuses: list[int] = []
    lock = threading.Lock()

    def client(chunk: list[tuple[int, int]]) -> None:
        conn = Http(port, token)
        try:
            for episode_id, version in chunk:
                status, _ = conn.request(
                    "POST",
                    f"/api/episodes/{episode_id}/transitions/refer_to_specialist/",
                    {"version": version},
                )
                with lock:
                    statuses.append(status)
        finally:
            conn.close()

    # A server in its steady state, as in production and as the complete run finds it after
    # the queue and dispatch phases: each client's first transitions (a new connection in
    # each gunicorn thread, first statements prepared) before the clock starts.
    warmers = [threading.Thread(target=client, args=(warm[i::clients],)) for i in range(clients)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join()
    statuses.clear()
    threads = [threading.Thread(target=client, args=(work[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    # Races: two clients, the same episode and version at once: one must win, one get 409.
    race_results: dict[int, list[int]] = {}

    def racer(episode_id: int, version: int) -> None:
        conn = Http(port, token)
        try:
            status, _ = conn.request(
                "POST",
                f"/api/episodes/{episode_id}/transitions/refer_to_specialist/",
                {"version": version},
            )
        finally:
            conn.close()
        with lock:
            race_results.setdefault(episode_id, []).append(status)

    for episode_id, version in races:
        pair = [threading.Thread(target=racer, args=(episode_id, version)) for _ in range(2)]
        for t in pair:
            t.start()
        for t in pair:
            t.join()
    one_winner = sum(1 for s in race_results.values() if sorted(s) == [200, 409])
    after = dict(Episode.objects.filter(id__in=[e for e, _ in picked]).values_list("id", "version"))
    logs = dict(
        TransitionLog.objects.filter(episode_id__in=[e for e, _ in picked])
        .values_list("episode_id")
        .annotate(n=Count("id"))
    )
    lost = sum(
        1
        for episode_id, version in picked
        if after[episode_id] != version + 1
        or logs.get(episode_id, 0) != before_logs.get(episode_id, 0) + 1
    )
    return {
        "count": len(work),
        "clients": clients,
        "ok": statuses.count(200),
        "errors": len(statuses) - statuses.count(200),
        "elapsed_s": elapsed,
        "per_s": statuses.count(200) / elapsed,
        "lost_updates": lost,
        "races": len(races),
        "races_one_winner": one_winner,
        "server": "gunicorn, 2 gthread workers x 4 threads",
    }


# -- the run --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    with psycopg.connect(PG_ADMIN) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis_client().info("server")["redis_version"],
        "kernel": platform.release(),
    }


def write_part(out: Path, result: dict[str, Any], started: float) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    say(f"wrote {out} in {time.monotonic() - started:.0f} s")


def _commit() -> str:
    """The code measured: HEAD's short hash, with ``+changes`` when the tree differs from it."""

    def git(*args: str) -> str:
        found = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *args],  # noqa: S607 - git from PATH, as make runs it
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head}+changes" if git("status", "--porcelain", "--untracked-files=no") else head


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=50_000, help="reminders for the dispatch run")
    parser.add_argument("--memory-due", type=int, default=100_000)
    parser.add_argument("--deep-rows", type=int, default=2_000, help="how deep a deep page is")
    parser.add_argument("--transitions", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reuse", action="store_true", help="keep the generated databases")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only the adherence report, live and from rollups (bench/results/report-<size>.json)",
    )
    parser.add_argument(
        "--workspace-only",
        action="store_true",
        help="only the workspace pages beside the API's (bench/results/workspace.json)",
    )
    parser.add_argument(
        "--queues-only",
        action="store_true",
        help="only the API's queue pages beside their raw SQL (bench/results/queues.json)",
    )
    parser.add_argument(
        "--dispatch-only",
        action="store_true",
        help="only dispatch and a burst through beat, then transitions unless"
        " --transitions 0 (bench/results/dispatch.json)",
    )
    parser.add_argument(
        "--transitions-only",
        action="store_true",
        help="only the concurrent transitions (bench/results/transitions.json)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    os.environ.update(bench_env(BIG_DB))
    redis_client().flushdb()

    if not args.reuse:
        sizes = [(BIG_DB, args.episodes), (SMALL_DB, SMALL_EPISODES)]
        only_big = (
            args.workspace_only
            or args.report_only
            or args.dispatch_only
            or args.transitions_only
            or args.queues_only
        )
        for name, count in sizes[:1] if only_big else sizes:
            say(f"creating {name} with {count:,} episodes")
            recreate_database(name)
            manage(name, "migrate", "--noinput", "-v0")
            t0 = time.monotonic()
            python_module(name, "bench.generate", "--count", str(count))
            if name == BIG_DB:
                generated_s = time.monotonic() - t0
    else:
        generated_s = None
        if args.report_only:
            # A kept database made before the rollups' tables and triggers gets them (and
            # every month marked for its first refresh): the migrations are idempotent.
            manage(BIG_DB, "migrate", "--noinput", "-v0")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from knox.models import AuthToken

    from bench.probe import park_due
    from config.celery_app import app
    from episodes.models import CareTeam, Episode
    from notifications.models import Reminder

    team = CareTeam.objects.get(name="Bench team 1")
    bench_user = get_user_model().objects.get(username="bench-coordinator-1-1")
    token = AuthToken.objects.create(user=bench_user)[1]
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "episodes": Episode.objects.count(),
        "reminders": Reminder.objects.count(),
        "generated_s": generated_s,
        "machine": machine(),
    }
    say(f"{result['episodes']:,} episodes, {result['reminders']:,} reminders")

    if args.report_only:
        with gunicorn(BIG_DB) as port:
            say("6. the adherence report for one team")
            result["report"] = bench_report(port, token, team.pk)
        size = f"{result['episodes'] // 1000}k" if result["episodes"] < 1_000_000 else "1m"
        write_part(
            args.out if args.out != RESULTS / "latest.json" else RESULTS / f"report-{size}.json",
            result,
            started,
        )
        return

    if args.transitions_only:
        with gunicorn(BIG_DB) as port:
            say("5. concurrent transitions")
            result["transitions"] = bench_transitions(
                port, token, team.pk, args.transitions, args.clients
            )
        write_part(RESULTS / "transitions.json", result, started)
        return

    if args.dispatch_only:
        say("2. dispatch: raw SQL claims, raw Celery, end to end, a burst through beat")
        result["dispatch"] = bench_dispatch(app, args.due)
        if args.transitions:
            with gunicorn(BIG_DB) as port:
                say("5. concurrent transitions")
                result["transitions"] = bench_transitions(
                    port, token, team.pk, args.transitions, args.clients
                )
        write_part(RESULTS / "dispatch.json", result, started)
        return

    if args.queues_only:
        with gunicorn(BIG_DB) as port:
            say("1. queue pages through the API and the same SQL raw")
            result["queue"] = bench_queues(port, token, args.deep_rows)
        write_part(
            args.out if args.out != RESULTS / "latest.json" else RESULTS / "queues.json",
            result,
            started,
        )
        return

    if args.workspace_only:
        with gunicorn(BIG_DB) as port:
            say("1b. workspace pages (HTML) beside the API's")
            result["workspace"] = bench_workspace(port, token)
        write_part(RESULTS / "workspace.json", result, started)
        return

    with gunicorn(BIG_DB) as port:
        say("1. queue pages through the API and the same SQL raw")
        result["queue"] = bench_queues(port, token, args.deep_rows)
        say("1b. workspace pages (HTML) beside the API's")
        result["workspace"] = bench_workspace(port, token)

        say("2. dispatch: raw SQL claims, raw Celery, end to end, a burst through beat")
        result["dispatch"] = bench_dispatch(app, args.due)

        say("6. the adherence report for one team")
        result["report"] = bench_report(port, token, team.pk)

        say("5. concurrent transitions")
        result["transitions"] = bench_transitions(
            port, token, team.pk, args.transitions, args.clients
        )

    say("3. dispatch cycle cost, 1k due, small vs big")
    vacuum(SMALL_DB)
    vacuum(BIG_DB)
    small = probe(SMALL_DB, "scan", "--due", "1000")
    big = probe(BIG_DB, "scan", "--due", "1000")
    result["scan"] = {
        "small": small,
        "big": big,
        "cost_ratio_1m_vs_10k": big["cycle_ms_median"] / small["cycle_ms_median"],
    }

    say("4. peak memory, 1k vs 100k due")
    d1, w1 = memory_at(app, 1000)
    d100, w100 = memory_at(app, args.memory_due)
    with connection.cursor() as cursor:
        park_due(cursor)
    result["memory"] = {
        "dispatcher_1k": d1,
        "dispatcher_100k": d100,
        "worker_1k_kib": w1,
        "worker_100k_kib": w100,
        "dispatcher_ratio": d100["tracemalloc_peak_kib"] / d1["tracemalloc_peak_kib"],
        "worker_ratio": w100 / w1,
        "peak_ratio_100k_vs_1k": max(
            d100["tracemalloc_peak_kib"] / d1["tracemalloc_peak_kib"], w100 / w1
        ),
    }
    result["run_s"] = time.monotonic() - started

    from bench.report import missing_keys, table

    missing = missing_keys(result)
    if missing:
        msg = f"result lacks {missing}"
        raise RuntimeError(msg)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.write("\n" + table(result) + "\n")
    say(f"wrote {args.out} in {result['run_s']:.0f} s")


if __name__ == "__main__":
    main()
