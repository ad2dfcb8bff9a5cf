"""Schemathesis against the live OpenAPI schema: every operation, generated requests.

A few hundred requests, authenticated, through Django's WSGI app on the test database.

Fails on any 500, any undocumented status code or content type, and any response body
that does not match the schema.
"""

from __future__ import annotations

import itertools
import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from episodes import services
from episodes.models import CarePlanItem, Episode, RedFlag
from tests.clients import client_for
from tests.factories import PatientFactory, new_episode

# ~25 operations x 15 examples: a few hundred requests in every `make test`.
# CAREFLOW_SCHEMATHESIS_EXAMPLES raises it; `make fuzz` (CI) runs schemathesis's CLI with
# every check against a live gunicorn instead (test_schemathesis_live.py).
EXAMPLES_PER_OPERATION = int(os.environ.get("CAREFLOW_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(team, coordinator, clinician):
    """Team A's data the generated requests are pointed at, and the token they send."""
    episodes = []
    for i in range(6):
        episode = new_episode(PatientFactory(care_team=team), coordinator, radicular_pain=True)
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        services.care_plan_item_add(episode_id=episode.pk, by=clinician, item="nsaid")
        if i % 2:
            services.episode_update(
                episode_id=episode.pk, by=coordinator, fields={"assigned_to": clinician}
            )
        episodes.append(episode.pk)
    token = client_for(clinician)._credentials["HTTP_AUTHORIZATION"]  # noqa: SLF001
    return {"episodes": episodes, "headers": {"Authorization": token}, "turn": itertools.count()}


def aim_at_real_rows(case, world) -> None:
    """Three requests in four go to rows that exist; the fourth keeps its generated ids."""
    params = case.path_parameters or {}
    turn = next(world["turn"])
    if ("episode_id" not in params and "patient_id" not in params) or turn % 4 == 0:
        return
    episode = Episode.objects.get(pk=world["episodes"][turn % len(world["episodes"])])
    if "episode_id" in params:
        params["episode_id"] = episode.pk
    if "patient_id" in params:
        params["patient_id"] = episode.patient_id
    if "flag_id" in params:
        flag = RedFlag.objects.filter(episode=episode).first()
        params["flag_id"] = flag.pk if flag else params["flag_id"]
    if "item_id" in params:
        item = CarePlanItem.objects.filter(episode=episode).first()
        params["item_id"] = item.pk if item else params["item_id"]


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same cases on every run: CI failures reproduce locally
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, keeping the test's database connection open between requests.

    The real handler closes the connection when a request ends; the test's transaction
    (and the rows the requests read) lives on that connection, so, as Django's test client
    does, keep it open while the test runs.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_api_conforms_to_its_schema(world, wsgi_app):
    # The schema is loaded from the running app, as a client would, not from a file.
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    sent = itertools.count()

    for operation in operations:

        @SETTINGS
        @hypothesis.given(case=operation.as_strategy())
        def check(case):
            aim_at_real_rows(case, world)
            next(sent)
            case.call_and_validate(headers=world["headers"], checks=CHECKS)

        check()
    assert next(sent) > len(operations) * min(5, EXAMPLES_PER_OPERATION)
