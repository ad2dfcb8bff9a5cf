"""Logs are JSON lines carrying the request id, redacted as before, the id followed into Celery.

The handler under test is built from ``settings.LOGGING`` itself (its formatter and filters),
writing to a buffer instead of standard error.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
import time
import uuid

import pytest
from django.conf import settings
from django_guid import clear_guid, set_guid

from ops.tasks import prune_idempotency_keys

CONSOLE = settings.LOGGING["handlers"]["console"]


@pytest.fixture
def lines():
    """Every record of the ``django`` and ``episodes`` loggers as settings format it."""
    stream = io.StringIO()
    config = {
        **settings.LOGGING,
        "handlers": {
            "buffer": {
                **{k: v for k, v in CONSOLE.items() if k != "class"},
                "class": "logging.StreamHandler",
                "stream": stream,
            }
        },
        "root": {"level": "WARNING", "handlers": []},
        "loggers": {
            "django.request": {"level": "INFO", "handlers": ["buffer"], "propagate": False},
            "episodes": {"level": "INFO", "handlers": ["buffer"], "propagate": False},
        },
    }
    logging.config.dictConfig(config)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    logging.config.dictConfig(settings.LOGGING)


def test_the_console_handler_writes_json_with_the_request_id_and_the_redaction():
    console = settings.LOGGING["handlers"]["console"]
    assert console["formatter"] == "json"
    assert console["filters"] == ["request_id", "celery_tracing", "redact"]


@pytest.mark.django_db
def test_a_request_s_lines_carry_its_id_and_no_check_in_token(client, lines):
    request_id = uuid.uuid4().hex
    response = client.get("/check-in/secret.token.value/nothing-here", HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 404
    assert response["X-Request-ID"] == request_id
    (record,) = [r for r in lines() if r["logger"] == "django.request"]
    assert record["request_id"] == request_id
    assert record["level"] == "WARNING"
    assert record["message"] == "Not Found: /check-in/[redacted]/nothing-here"
    assert set(record) == {"time", "level", "logger", "process", "message", "request_id"}
    assert "secret.token" not in json.dumps(lines())


@pytest.mark.django_db
def test_an_id_that_is_not_a_uuid_is_replaced(client, lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID='"}{"level": "forged')
    given = response["X-Request-ID"]
    assert uuid.UUID(given)
    (record,) = [r for r in lines() if r["logger"] == "django.request"]
    assert record["request_id"] == given


def test_an_identifying_search_value_is_redacted_in_json_too(lines):
    logging.getLogger("episodes").warning(
        "search %s", "/fhir/Patient?name=Quixotic&birthdate=1953-04-17"
    )
    (record,) = lines()
    assert record["message"] == "search /fhir/Patient?name=[redacted]&birthdate=[redacted]"
    assert record["request_id"] is None


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_by_a_request_logs_the_request_s_id_in_the_worker(
    celery_worker_factory,
):
    worker = celery_worker_factory(queue="request-id-probe")
    request_id = uuid.uuid4().hex
    set_guid(request_id)  # what django-guid's middleware does for a request
    try:
        prune_idempotency_keys.apply_async(queue="request-id-probe")
    finally:
        clear_guid()
    deadline = time.monotonic() + 30
    found = []
    while not found and time.monotonic() < deadline:
        found = [
            json.loads(line)
            for line in worker.log_path.read_text().splitlines()
            if line.startswith("{") and "idempotency keys pruned" in line
        ]
        time.sleep(0.2)
    assert found, worker.log_path.read_text()[-3000:]
    assert found[0]["request_id"] == request_id
    assert found[0]["logger"] == "ops.tasks"
    assert found[0]["task_id"]
