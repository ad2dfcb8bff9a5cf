"""A real Prometheus scrapes a running Careflow (gunicorn, two workers) and evaluates the rules.

Debian's ``prometheus`` (``scripts/ensure_prometheus.sh``) scrapes ``/metrics`` every second
with the bearer token, on the test database, where an urgent episode has waited two hours
unacted. Prometheus's own API must then show the target up, the patient-safety figures,
counters added up over gunicorn's workers (multiprocess mode), and the
``CareflowUrgentEpisodeUnacted`` alert pending. gunicorn's access log is JSON lines with
each response's request id.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.factories import EpisodeFactory, RedFlagFactory
from tests.ops.helpers import METRICS_TOKEN
from tests.processes import (
    database_url_for_worker,
    free_port,
    gunicorn_argv,
    prometheus_argv,
    stop,
)

pytestmark = pytest.mark.django_db(transaction=True)

START_TIMEOUT_SECONDS = 60


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - a local URL
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(what: str, check, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what}: process exited {process.returncode}\n{log.read_text()[-3000:]}")
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"{what}: not within {START_TIMEOUT_SECONDS} s\n{log.read_text()[-3000:]}")
    return None


@pytest.fixture
def careflow_web(tmp_path):
    """Gunicorn on a free port, two workers sharing a PROMETHEUS_MULTIPROC_DIR."""
    port = free_port()
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url_for_worker(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "CAREFLOW_METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            gunicorn_argv(port), cwd=settings.BASE_DIR, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("gunicorn", lambda: get(f"{base}/healthz")[0] in {200, 503}, process, log)
        yield base, port, multiproc, log
    finally:
        stop(process)


@pytest.fixture
def prometheus(tmp_path, careflow_web):
    subprocess.run([Path(settings.BASE_DIR) / "scripts" / "ensure_prometheus.sh"], check=True)
    _, web_port, _, _ = careflow_web
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML: no template to escape
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(Path(settings.BASE_DIR) / "ops/prometheus/careflow-rules.yml")],
                "scrape_configs": [
                    {
                        "job_name": "careflow",
                        "metrics_path": "/metrics",
                        "authorization": {"type": "Bearer", "credentials": METRICS_TOKEN},
                        "static_configs": [{"targets": [f"127.0.0.1:{web_port}"]}],
                    }
                ],
            }
        )
    )
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            prometheus_argv(str(config), str(tmp_path / "data"), port), stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("prometheus", lambda: get(f"{base}/-/ready")[0] == 200, process, log)
        yield base, process, log
    finally:
        stop(process)


def query(base: str, expr: str) -> list[dict]:
    status, body = get(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
    assert status == 200, body
    return json.loads(body)["data"]["result"]


def test_prometheus_scrapes_the_patient_safety_figures_and_the_alert_goes_pending(
    team, coordinator, clinician, careflow_web, prometheus
):
    episode = EpisodeFactory(
        patient__care_team=team, by=coordinator, at=timezone.now() - timedelta(days=10)
    )
    raised = timezone.now() - timedelta(hours=2)
    RedFlagFactory(episode=episode, sign="saddle_anesthesia", by=clinician, at=raised)
    web, _, multiproc, web_log = careflow_web
    base, process, log = prometheus

    # Requests spread over both gunicorn workers: the counter is their sum.
    for _ in range(20):
        get(f"{web}/healthz")

    def scraped():
        up = query(base, 'up{job="careflow"}')
        return up and up[0]["value"][1] == "1" and query(base, "careflow_urgent_episodes")

    wait_for("a successful scrape", scraped, process, log)
    unacted = query(base, 'careflow_urgent_episodes{acted="no"}')
    assert unacted[0]["value"][1] == "1"
    age = float(query(base, "careflow_urgent_unacted_oldest_age_seconds")[0]["value"][1])
    assert 7200 <= age < 7200 + 120
    assert query(base, "careflow_metrics_collector_up")[0]["value"][1] == "1"
    for name in ("careflow_dispatch_lag_seconds", "careflow_unread_replies",
                 "careflow_beat_heartbeat_age_seconds", "careflow_reminders"):  # fmt: skip
        assert query(base, name), name

    def healthz_counted():
        found = query(base, 'sum(careflow_http_requests_total{route="healthz"})')
        return found and float(found[0]["value"][1]) >= 21

    wait_for("the healthz requests of every worker", healthz_counted, process, log)
    assert len(list(multiproc.glob("counter_*.db"))) >= 2, "both workers wrote their samples"
    # gunicorn's access log: one JSON object a request, with the id the response carried.
    access = [
        json.loads(line)
        for line in web_log.read_text().splitlines()
        if '"logger": "gunicorn.access"' in line
    ]
    healthz = [line for line in access if line["request"].startswith("GET /healthz ")]
    assert len(healthz) >= 20
    assert all(len(line["request_id"]) == 32 for line in healthz)

    def pending():
        _, body = get(f"{base}/api/v1/alerts")
        alerts = json.loads(body)["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "CareflowUrgentEpisodeUnacted"]

    alert = wait_for("the unacted-urgent alert", pending, process, log)[0]
    assert alert["state"] in {"pending", "firing"}
    assert alert["labels"]["severity"] == "page"
