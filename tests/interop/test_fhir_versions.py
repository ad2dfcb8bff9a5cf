"""Versions on reads, and Tasks that read back done rather than gone.

meta.versionId, ETag, Last-Modified and If-None-Match on every read by id.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils.http import parse_http_date

from episodes import services
from tests.clients import client_for
from tests.interop.helpers import FHIR_JSON, validate

pytestmark = pytest.mark.django_db


def _read(client, path: str, **headers):
    return client.get(f"/fhir/{path}", HTTP_ACCEPT=FHIR_JSON, **headers)


@pytest.mark.parametrize("kind", ["Patient", "EpisodeOfCare", "Condition", "CarePlan"])
def test_reads_carry_their_version(coordinator, clinician, episode, kind):
    client = client_for(coordinator)
    ident = episode.patient_id if kind == "Patient" else episode.pk
    first = _read(client, f"{kind}/{ident}")
    body = first.json()
    validate(body)
    version = body["meta"]["versionId"]
    assert first["ETag"] == f'W/"{version}"'
    assert parse_http_date(first["Last-Modified"]) == int(
        datetime.fromisoformat(body["meta"]["lastUpdated"]).timestamp()
    )
    # Unchanged: the same version; a client holding it is told so without the body.
    assert _read(client, f"{kind}/{ident}").json()["meta"]["versionId"] == version
    cached = _read(client, f"{kind}/{ident}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert cached.status_code == 304
    assert cached.content == b""
    assert _read(client, f"{kind}/{ident}", HTTP_IF_NONE_MATCH='W/"other"').status_code == 200
    # A search finds the same resource, version and all.
    found = client.get(f"/fhir/{kind}", {"_id": ident}).json()["entry"][0]["resource"]
    assert found == body
    # Changed: a new version.
    if kind == "Patient":
        services.patient_update(patient_id=ident, by=coordinator, fields={"language": "es"})
    elif kind == "CarePlan":
        services.care_plan_item_add(episode_id=episode.pk, by=clinician, item="nsaid")
    elif kind == "Condition":  # closed: no clinical status any more
        services.episode_transition(
            episode_id=episode.pk, name="close", by=clinician, data={"reason": "transferred"}
        )
    else:
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    changed = _read(client, f"{kind}/{ident}")
    assert changed.json()["meta"]["versionId"] != version
    assert changed["ETag"] != first["ETag"]
    assert _read(client, f"{kind}/{ident}", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_another_teams_read_says_nothing_of_versions(other_coordinator, episode):
    response = _read(client_for(other_coordinator), f"Patient/{episode.patient_id}")
    assert response.status_code == 404
    assert "ETag" not in response
    assert "Last-Modified" not in response


def test_a_task_done_reads_back_completed(coordinator, clinician, episode):
    client = client_for(coordinator)
    task = f"{episode.pk}-educate-patient"
    assert _read(client, f"Task/{task}").json()["status"] == "ready"
    services.care_plan_item_add(
        episode_id=episode.pk, by=clinician, item="natural_history_education"
    )
    done = _read(client, f"Task/{task}")
    assert done.status_code == 200, done.content
    body = done.json()
    validate(body)
    assert body["status"] == "completed"
    assert body["focus"] == {"reference": f"EpisodeOfCare/{episode.pk}"}
    # Not one careflow computes: still a 404.
    assert _read(client, f"Task/{episode.pk}-telepathy").status_code == 404
    # Another team: a 404 whatever the task's state.
    assert client_for(None).get(f"/fhir/Task/{task}").status_code == 401


def test_a_closed_episodes_tasks_read_back_cancelled(coordinator, clinician, episode):
    client = client_for(coordinator)
    task = f"{episode.pk}-educate-patient"
    services.episode_transition(
        episode_id=episode.pk, name="close", by=clinician, data={"reason": "transferred"}
    )
    body = _read(client, f"Task/{task}").json()
    validate(body)
    assert body["status"] == "cancelled"


def test_a_done_task_of_another_team_is_a_404(other_coordinator, clinician, episode):
    services.care_plan_item_add(
        episode_id=episode.pk, by=clinician, item="natural_history_education"
    )
    response = _read(client_for(other_coordinator), f"Task/{episode.pk}-educate-patient")
    assert response.status_code == 404
