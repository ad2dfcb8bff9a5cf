"""A worklist sync as an EHR makes it with fhirpy (a client we did not write), over HTTP.

Every episode with its patient and condition (``_include``), page after page; then only
what changed since (``_lastUpdated=gt``); an episode's history after a transition; and a
transaction that names a version refused with 412 rather than answered as if it held.
"""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone
from fhirpy import SyncFHIRClient
from knox.models import AuthToken

from episodes import services
from tests.factories import bulk_episodes
from tests.interop.helpers import FHIR_JSON, counts, enrolment, validate

ROWS = 260  # more than two default pages


def _client(live_server, user) -> tuple[SyncFHIRClient, str]:
    _, token = AuthToken.objects.create(user=user)
    client = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")
    return client, token


@pytest.fixture
def many(team, other_team, coordinator, other_coordinator):
    bulk_episodes(team, coordinator, ROWS)
    bulk_episodes(other_team, other_coordinator, 7)


def test_include_across_every_page(live_server, many, coordinator):
    client, _token = _client(live_server, coordinator)
    search = client.resources("EpisodeOfCare").include("EpisodeOfCare", "patient")
    # fhirpy's fetch_all keeps the searched type: every episode, none lost to paging.
    episodes = search.limit(100).fetch_all()
    assert len({e.id for e in episodes}) == ROWS
    # Page by page, each page carries its episodes' patients, marked as included.
    bundle = search.include("EpisodeOfCare", "condition").limit(100).fetch_raw()
    validate(bundle)
    matches = [e for e in bundle.entry if e.search.mode == "match"]
    included = [e for e in bundle.entry if e.search.mode == "include"]
    assert len(matches) == 100
    patients = {e.resource.id for e in included if e.resource.resourceType == "Patient"}
    assert patients == {m.resource.patient.reference.split("/")[1] for m in matches}
    conditions = {e.resource.id for e in included if e.resource.resourceType == "Condition"}
    assert conditions == {m.resource.id for m in matches}


def test_incremental_sync_picks_up_a_change(live_server, many, coordinator, clinician, team):
    client, _token = _client(live_server, coordinator)
    everything = client.resources("EpisodeOfCare").fetch_all()
    since = timezone.now().isoformat().replace("+00:00", "Z")
    assert client.resources("EpisodeOfCare").search(_lastUpdated=f"gt{since}").fetch_all() == []
    assert client.resources("Flag").search(_lastUpdated=f"gt{since}").fetch_all() == []
    changed = everything[17]
    flag = services.red_flag_raise(episode_id=int(changed.id), sign="fever", by=clinician)
    synced = client.resources("EpisodeOfCare").search(_lastUpdated=f"gt{since}").fetch_all()
    assert [e.id for e in synced] == [changed.id]
    assert synced[0]["meta"]["lastUpdated"] > since.replace("Z", "+00:00")
    flags = client.resources("Flag").search(_lastUpdated=f"gt{since}").fetch_all()
    assert [f.id for f in flags] == [str(flag.pk)]
    # Newest first, as a sync that resumes from the top reads them.
    newest = client.resources("EpisodeOfCare").sort("-_lastUpdated").limit(1).fetch()
    assert newest[0].id == changed.id


def test_history_after_a_transition(live_server, coordinator, clinician, episode):
    client, _token = _client(live_server, coordinator)
    before = client.resources("EpisodeOfCare").search(_id=episode.pk).fetch()[0]
    services.episode_transition(
        episode_id=episode.pk, name="close", by=clinician, data={"reason": "transferred"}
    )
    history = client.execute(f"EpisodeOfCare/{episode.pk}/_history", method="get")
    validate(history)
    assert history["type"] == "history"
    newest, *older = [e["resource"] for e in history["entry"]]
    assert newest["status"] == "finished"
    assert before.meta.versionId in [r["meta"]["versionId"] for r in older]
    old = client.execute(
        f"EpisodeOfCare/{episode.pk}/_history/{before.meta.versionId}", method="get"
    )
    assert old["status"] == "active"
    assert old == before.serialize()


def test_a_transaction_naming_a_version_is_a_412(live_server, coordinator):
    _unused, token = _client(live_server, coordinator)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON}
    body = enrolment()
    before = counts()
    answered = requests.post(
        f"{live_server.url}/fhir/", json=body, headers={**headers, "If-Match": 'W/"1"'}, timeout=10
    )
    assert answered.status_code == 412
    validate(answered.json())
    assert "If-Match" in answered.json()["issue"][0]["diagnostics"]
    body["entry"][0]["request"]["ifMatch"] = 'W/"1"'
    answered = requests.post(f"{live_server.url}/fhir/", json=body, headers=headers, timeout=10)
    assert answered.status_code == 412
    assert answered.json()["issue"][0]["expression"] == ["Bundle.entry[0].request.ifMatch"]
    # Nothing was written; without the precondition the same Bundle enrols.
    assert counts() == before
    del body["entry"][0]["request"]["ifMatch"]
    answered = requests.post(f"{live_server.url}/fhir/", json=body, headers=headers, timeout=10)
    assert answered.status_code == 200, answered.content
