"""Kept versions of Patient and EpisodeOfCare: versionId = ETag, vread, _history.

A write that changes what the resource says records its next version (a transition, a
patient's details); a read meets a row changed behind the services' back and records it;
a search, a read, a vread and the history agree on every version.
"""

from __future__ import annotations

import pytest

from episodes import services
from episodes.models import Patient
from interop.models import ResourceVersion
from tests.clients import client_for
from tests.interop.helpers import FHIR_JSON, validate

pytestmark = pytest.mark.django_db


def _get(user, path: str, **params):
    return client_for(user).get(f"/fhir/{path}", params, HTTP_ACCEPT=FHIR_JSON)


def _history(user, path: str, **params) -> dict:
    response = _get(user, f"{path}/_history", **params)
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    assert body["type"] == "history"
    return body


def test_history_after_a_transition(coordinator, clinician, episode):
    path = f"EpisodeOfCare/{episode.pk}"
    first = _get(coordinator, path)
    was = first.json()["meta"]["versionId"]
    assert first["ETag"] == f'W/"{was}"'
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)  # escalates
    read = _get(coordinator, path)
    body = read.json()
    assert body["extension"][0]["valueCoding"]["code"] == "urgent_escalation"
    version = body["meta"]["versionId"]
    assert read["ETag"] == f'W/"{version}"'
    assert int(version) > int(was)
    history = _history(coordinator, path)
    entries = history["entry"]
    assert [e["resource"]["meta"]["versionId"] for e in entries] == [
        str(n) for n in range(int(version), 0, -1)
    ]
    assert entries[0]["resource"] == body  # the newest is what a read shows
    assert entries[-1]["request"] == {"method": "POST", "url": "EpisodeOfCare"}
    assert entries[0]["request"] == {"method": "PUT", "url": path}
    assert entries[0]["response"]["etag"] == read["ETag"]
    # vread of the version first read says what it said then.
    old = _get(coordinator, f"{path}/_history/{was}")
    assert old.status_code == 200
    validate(old.json())
    assert old.json()["extension"][0]["valueCoding"]["code"] == "conservative_care"
    assert old["ETag"] == first["ETag"]
    assert old["Last-Modified"] == first["Last-Modified"]
    assert old.json() == first.json()
    # A search shows the same version as the read.
    found = _get(coordinator, "EpisodeOfCare", _id=episode.pk).json()["entry"][0]["resource"]
    assert found == body


def test_every_write_is_a_version_read_and_vread_agree(coordinator, clinician, episode):
    path = f"EpisodeOfCare/{episode.pk}"
    before = _get(coordinator, path)
    services.assessment_record(episode_id=episode.pk, by=clinician, values={"disabling_pain": True})
    after = _get(coordinator, path)
    assert after["ETag"] != before["ETag"]
    version = after.json()["meta"]["versionId"]
    again = _get(coordinator, f"{path}/_history/{version}")
    assert again.json() == after.json()
    assert again["Last-Modified"] == after["Last-Modified"]
    # Unchanged since: the same version, and a client holding it gets a 304.
    cached = client_for(coordinator).get(f"/fhir/{path}", HTTP_IF_NONE_MATCH=after["ETag"])
    assert cached.status_code == 304


def test_patient_versions(coordinator, episode):
    path = f"Patient/{episode.patient_id}"
    first = int(_get(coordinator, path).json()["meta"]["versionId"])
    for language in ("es", "en"):
        services.patient_update(
            patient_id=episode.patient_id, by=coordinator, fields={"language": language}
        )
    # Both writes recorded, though no one read in between; the last says what the first did.
    assert _get(coordinator, path).json()["meta"]["versionId"] == str(first + 2)
    languages = [
        e["resource"]["communication"][0]["language"]["coding"][0]["code"]
        for e in _history(coordinator, path)["entry"]
    ]
    assert languages[:3] == ["en", "es", "en"]
    middle = _get(coordinator, f"{path}/_history/{first + 1}").json()
    assert middle["communication"][0]["language"]["coding"][0]["code"] == "es"


def test_a_change_behind_the_services_back_is_recorded_at_the_next_read(coordinator, episode):
    """A patient's STOP by SMS updates the row without a service: the read records it."""
    path = f"Patient/{episode.patient_id}"
    was = int(_get(coordinator, path).json()["meta"]["versionId"])
    Patient.objects.filter(pk=episode.patient_id).update(opted_out=True)
    searched = _get(coordinator, "Patient", _id=episode.patient_id).json()
    assert searched["entry"][0]["resource"]["meta"]["versionId"] == str(was + 1)
    assert _get(coordinator, path)["ETag"] == f'W/"{was + 1}"'
    kept = ResourceVersion.objects.filter(resource_type="Patient", resource_id=episode.patient_id)
    assert kept.count() == was + 1


def test_history_pages_newest_first(coordinator, episode):
    for language in ("es", "en", "es", "en"):
        services.patient_update(
            patient_id=episode.patient_id, by=coordinator, fields={"language": language}
        )
    latest = int(_get(coordinator, f"Patient/{episode.patient_id}").json()["meta"]["versionId"])
    client = client_for(coordinator)
    url = f"/fhir/Patient/{episode.patient_id}/_history?_count=2"
    seen = []
    while url:
        body = client.get(url).json()
        validate(body)
        seen.extend(e["response"]["etag"] for e in body.get("entry", []))
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
    assert seen == [f'W/"{n}"' for n in range(latest, 0, -1)]


def test_versions_are_the_teams_alone(other_coordinator, coordinator, episode):
    for path in (
        f"EpisodeOfCare/{episode.pk}/_history",
        f"EpisodeOfCare/{episode.pk}/_history/1",
        f"Patient/{episode.patient_id}/_history",
    ):
        response = _get(other_coordinator, path)
        assert response.status_code == 404, path
        assert "ETag" not in response
    assert _get(coordinator, f"EpisodeOfCare/{episode.pk}/_history/1").status_code == 200


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("EpisodeOfCare/{e}/_history/99", "has no version 99; its latest is"),
        ("EpisodeOfCare/{e}/_history/x", "has no version x"),
        ("EpisodeOfCare/{e}/_history/" + "9" * 40, "has no version"),
        ("Condition/{e}/_history", "keeps the versions of EpisodeOfCare and Patient only"),
        ("Flag/999999999/_history/1", "No such resource"),
    ],
)
def test_versions_not_kept_are_404_in_words(coordinator, episode, path, words):
    response = _get(coordinator, path.format(e=episode.pk))
    assert response.status_code == 404
    body = response.json()
    validate(body)
    assert words in body["issue"][0]["diagnostics"]


def test_history_refuses_what_it_does_not_serve(coordinator, episode):
    path = f"EpisodeOfCare/{episode.pk}"
    assert _get(coordinator, f"{path}/_history", _sort="-_lastUpdated").status_code == 400
    assert _get(coordinator, f"{path}/_history", colour="blue").status_code == 400
    assert _history(coordinator, path, _since="2000-01-01T00:00:00Z")["entry"]
    future = _history(coordinator, path, _since="2999-01-01T00:00:00Z")
    assert "entry" not in future
