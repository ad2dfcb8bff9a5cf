"""The OpenAPI schema says what the server enforces: what it refuses, it does not offer.

A blank correction ``reason`` is refused, so the schema gives it ``minLength: 1``; a
logout can be throttled, so ``DELETE /api/auth/token/`` documents its 429.
"""

from __future__ import annotations

from tests.clients import client_for, url
from tests.clock import at_day


def schema(client) -> dict:
    return client.get(url("schema/"), {"format": "json"}).json()


def test_a_correction_reason_is_never_blank_in_the_schema_or_the_server(coordinator, episode):
    client = client_for(coordinator)
    components = schema(client)["components"]["schemas"]
    for name in ("PatchedPatientUpdateInput", "PatchedEpisodeUpdateInput"):
        assert components[name]["properties"]["reason"]["minLength"] == 1, name
    with at_day(3):
        blank = client.patch(
            url(f"episodes/{episode.pk}/"),
            {"symptom_onset": "2026-09-20", "reason": ""},
            format="json",
        )
        given = client.patch(
            url(f"episodes/{episode.pk}/"),
            {"symptom_onset": "2026-09-20", "reason": "GP letter"},
            format="json",
        )
    assert blank.status_code == 400
    assert "reason" in blank.json()
    assert given.status_code == 200  # the other way: a reason given is taken


def test_logout_documents_its_429(coordinator):
    operation = schema(client_for(coordinator))["paths"]["/api/auth/token/"]["delete"]
    assert {"204", "401", "429"} <= set(operation["responses"])
