"""``EpisodeOfCare/{id}/$everything``: every resource once, in pages, each as its read gives it.

Only the page shown is rendered: the ids of every row are read (the order and the total
need them), the rows themselves only for the page, so a page of an episode with hundreds
of notes and assessments costs what a page of a small one does.
"""

from __future__ import annotations

import pytest

from episodes import services
from interop import resources as fhir
from tests.interop.helpers import fhir_get, validate
from workspace.services import outreach_note_add

pytestmark = pytest.mark.django_db


def _pages(user, episode_id: int, count: int) -> tuple[list[dict], list[dict]]:
    """Every page of $everything at ``count`` a page, following ``next``: (bundles, entries)."""
    bundles, entries = [], []
    bundle = fhir_get(user, f"EpisodeOfCare/{episode_id}/$everything", _count=count).json()
    while True:
        validate(bundle)
        bundles.append(bundle)
        entries += bundle.get("entry", [])
        after = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not after:
            return bundles, entries
        path = after[0].split("/fhir/", 1)[1]
        bundle = fhir_get(user, path).json()


def _read(user, resource: dict) -> dict:
    response = fhir_get(user, f"{resource['resourceType']}/{resource['id']}")
    assert response.status_code == 200, (resource["resourceType"], resource["id"])
    return response.json()


def test_pages_hold_every_resource_once_each_as_its_read(full_episode, coordinator):
    episode_id = full_episode["EpisodeOfCare"]
    outreach_note_add(episode_id=episode_id, by=coordinator, kind="call_made", note="easing")
    (whole,), everything = _pages(coordinator, episode_id, 1000)
    bundles, paged = _pages(coordinator, episode_id, 3)
    assert len(bundles) == -(-len(everything) // 3)
    assert [e["fullUrl"] for e in paged] == [e["fullUrl"] for e in everything]
    assert {b["total"] for b in bundles} == {whole["total"]} == {len(everything)}
    kinds = {e["resource"]["resourceType"] for e in everything}
    assert kinds >= {
        "Patient", "EpisodeOfCare", "Condition", "CarePlan", "Flag", "Observation",
        "DiagnosticReport", "Task", "CommunicationRequest", "Communication",
        "QuestionnaireResponse", "Provenance",
    }  # fmt: skip
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in everything}
    assert len(ids) == len(everything)
    for entry in paged:
        resource = entry["resource"]
        assert resource == _read(coordinator, resource), resource["resourceType"]


def test_a_page_renders_only_its_own_rows(episode, coordinator, monkeypatch):
    for n in range(40):
        outreach_note_add(episode_id=episode.pk, by=coordinator, kind="no_answer")
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"disabling_pain": bool(n % 2)}
        )
    rendered = {"Observation": 0, "Communication": 0}
    observations, outreach = fhir.observation_resources, fhir.outreach_resource

    def counted_observations(*args, **kwargs):
        made = observations(*args, **kwargs)
        rendered["Observation"] += len(made)
        return made

    def counted_outreach(*args, **kwargs):
        rendered["Communication"] += 1
        return outreach(*args, **kwargs)

    monkeypatch.setattr(fhir, "observation_resources", counted_observations)
    monkeypatch.setattr(fhir, "outreach_resource", counted_outreach)
    bundle = fhir_get(coordinator, f"EpisodeOfCare/{episode.pk}/$everything", _count=10).json()
    assert bundle["total"] > 80
    assert len(bundle["entry"]) == 10
    # The first page is the patient, the episode, its condition and care plan, then
    # Observations: only the assessments shown are rendered (each makes one per fact it
    # recorded), not the 41 the episode has; none of its 40 outreach notes.
    shown = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert shown.count("Observation") == 6
    assert 6 <= rendered["Observation"] < 12
    assert rendered["Communication"] == 0
