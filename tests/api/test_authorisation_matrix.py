"""Two care teams x coordinator, clinician, superuser, anonymous, on every kind of endpoint.

Own team: allowed. Other team: 404 (existence never leaks). Superuser: everything.
Anonymous: 401.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import ACTORS, EXPECTED, actor
from tests.clients import client_for, url

READS = (
    "episodes/{episode}/",
    "episodes/{episode}/timeline/",
    "episodes/{episode}/reminders/",
    "episodes/{episode}/care-plan/",
    "patients/{patient}/",
)


@pytest.mark.parametrize("name", ACTORS)
@pytest.mark.parametrize("path", READS)
def test_reads(request, episode, name, path):
    response = client_for(actor(request, name)).get(
        url(path.format(episode=episode.pk, patient=episode.patient_id))
    )
    assert response.status_code == EXPECTED[name], response.content


WRITES = (
    ("post", "episodes/{episode}/assessments/", {"radicular_pain": True}, 201),
    ("post", "episodes/{episode}/red-flags/", {"sign": "fever"}, 201),
    ("post", "episodes/{episode}/imaging/", {"performed_on": "2026-10-01"}, 201),
    ("post", "episodes/{episode}/care-plan/", {"item": "nsaid"}, 201),
    (
        "patch",
        "episodes/{episode}/",
        {"conservative_care_start": "2026-10-02", "reason": "first visit"},
        200,
    ),
    ("patch", "patients/{patient}/", {"language": "es"}, 200),
    ("post", "episodes/{episode}/transitions/resolve/", {}, 200),
)


@pytest.mark.parametrize("name", ACTORS)
@pytest.mark.parametrize("write", WRITES)
def test_writes(request, episode, name, write):
    method, path, body, ok = write
    client = client_for(actor(request, name))
    target = url(path.format(episode=episode.pk, patient=episode.patient_id))
    response = getattr(client, method)(target, body, format="json")
    expected = ok if EXPECTED[name] == 200 else EXPECTED[name]
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("name", ACTORS)
def test_lists_show_only_own_teams(request, episode, other_episode, name):
    response = client_for(actor(request, name)).get(url("episodes/"))
    if name is None:
        assert response.status_code == 401
        return
    ids = {row["id"] for row in response.json()["results"]}
    expected = {
        "coordinator": {episode.pk},
        "clinician": {episode.pk},
        "other_coordinator": {other_episode.pk},
        "other_clinician": {other_episode.pk},
        "superuser": {episode.pk, other_episode.pk},
    }[name]
    assert ids == expected


@pytest.mark.parametrize("name", ACTORS)
def test_queues_show_only_own_teams(request, episode, other_episode, name):
    client = client_for(actor(request, name))
    response = client.get(url("queues/unassigned/"))
    if name is None:
        assert response.status_code == 401
        assert client.get(url("queues/")).status_code == 401
        return
    ids = {row["id"] for row in response.json()["results"]}
    assert episode.pk in ids if EXPECTED[name] == 200 else episode.pk not in ids
    counts = {q["name"]: q["count"] for q in client.get(url("queues/")).json()}
    assert counts["unassigned"] == len(ids)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("coordinator", 403), ("clinician", 422), ("superuser", 422), ("other_clinician", 404)],
)
def test_clinician_only_transitions(request, episode, coordinator, name, expected):
    """begin_surgical_review: 403 for a coordinator; a clinician reaches the guard (SX-1)."""
    from episodes import services  # noqa: PLC0415

    services.episode_transition(episode_id=episode.pk, name="refer_to_specialist", by=coordinator)
    response = client_for(actor(request, name)).post(
        url(f"episodes/{episode.pk}/transitions/begin_surgical_review/"), {}, format="json"
    )
    assert response.status_code == expected, response.content
