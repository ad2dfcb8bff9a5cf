"""The facade driven by a FHIR client we did not write: fhirpy (beda.software), over HTTP.

A standard client follows ``Bundle.link`` ``next`` until there is none; with no link it
stops after the first page without a word, so these tests fetch more rows than a page
holds and count them all.
"""

from __future__ import annotations

import pytest
import requests
from fhirpy import SyncFHIRClient
from knox.models import AuthToken

from interop.clients import fhir_client_create
from tests.factories import bulk_episodes

ROWS = 260  # more than two default pages (interop.paging.DEFAULT_COUNT: 100)


def _client(live_server, user, scheme: str = "Bearer") -> SyncFHIRClient:
    _, token = AuthToken.objects.create(user=user)
    return SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"{scheme} {token}")


@pytest.fixture
def many(team, other_team, coordinator, other_coordinator):
    bulk_episodes(team, coordinator, ROWS)
    bulk_episodes(other_team, other_coordinator, 7)  # never in team A's pages


@pytest.mark.parametrize(
    ("resource_type", "expected"),
    [("Patient", ROWS), ("EpisodeOfCare", ROWS), ("Flag", ROWS)],
)
@pytest.mark.usefixtures("many")
def test_fetch_all_gets_every_row_of_the_team(live_server, coordinator, resource_type, expected):
    client = _client(live_server, coordinator)
    found = client.resources(resource_type).fetch_all()
    ids = [r.id for r in found]
    assert len(ids) == expected
    assert len(set(ids)) == expected
    # A small page size walks the same rows, in as many requests as it takes.
    small = client.resources(resource_type).limit(33).fetch_all()
    assert [r.id for r in small] == ids


def test_fetch_all_tasks(live_server, many, coordinator):
    client = _client(live_server, coordinator)
    tasks = client.resources("Task").limit(40).fetch_all()
    ids = [t.id for t in tasks]
    assert len(ids) == len(set(ids))
    # Every open episode of team A has next actions; none of team B's is among them.
    episodes = {t["focus"]["reference"] for t in tasks}
    assert len(episodes) == len(
        {e.id for e in client.resources("EpisodeOfCare").search(status="active").fetch_all()}
    )


def test_fetch_all_with_an_oauth_client(live_server, many, team):
    """An EHR's system token (client credentials) through the same client, the same pages."""
    credentials = fhir_client_create(team=team, name="EHR")
    token = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
        timeout=10,
    ).json()["access_token"]
    client = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")
    assert len({p.id for p in client.resources("Patient").fetch_all()}) == ROWS
