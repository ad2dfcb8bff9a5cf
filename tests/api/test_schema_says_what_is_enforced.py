"""The OpenAPI schema says what the server enforces: what it refuses, it does not offer.

A blank correction ``reason`` is refused, so the schema gives it ``minLength: 1``; a
logout can be throttled, so ``DELETE /api/auth/token/`` documents its 429. Each test below
holds one thing schemathesis's ``positive_data_acceptance`` and ``negative_data_rejection``
checks found (``make fuzz``), both in the schema and in what the server does.
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


def test_list_filters_take_ids_from_1_and_refuse_an_empty_value(coordinator, episode):
    client = client_for(coordinator)
    operation = schema(client)["paths"]["/api/episodes/"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    for name in ("patient", "assigned_to", "care_team"):
        assert params[name]["minimum"] == 1, name
    assert client.get(url("episodes/"), {"patient": 0}).status_code == 400
    assert client.get(url("episodes/"), {"state": ""}).json()["state"]
    assert client.get(url("episodes/"), {"patient": " "}).status_code == 400
    # The other way: a value given filters, a parameter left out does not.
    assert client.get(url("episodes/"), {"patient": episode.patient_id}).status_code == 200
    assert client.get(url("episodes/")).status_code == 200


def test_a_cursor_is_documented_as_the_servers_own(coordinator):
    client = client_for(coordinator)
    operation = schema(client)["paths"]["/api/patients/"]["get"]
    cursor = next(p for p in operation["parameters"] if p["name"] == "cursor")
    assert cursor["schema"]["minLength"] == 1
    assert "400" in cursor["description"]
    assert client.get(url("patients/"), {"cursor": ""}).status_code == 400
    assert client.get(url("patients/"), {"cursor": "bm9wZQ"}).status_code == 400


def test_bodies_that_refuse_unknown_fields_say_so(coordinator, episode):
    client = client_for(coordinator)
    components = schema(client)["components"]["schemas"]
    for name in (
        "PatchedEpisodeUpdateInput",
        "PatchedCarePlanItemUpdateInput",
        "PatientSearchInput",
    ):
        assert components[name]["additionalProperties"] is False, name
    # A body that ignores unknown fields does not say it refuses them.
    assert "additionalProperties" not in components["CarePlanItemInput"]
    refused = client.patch(url(f"episodes/{episode.pk}/"), {"colour": "red"}, format="json")
    assert refused.json()["colour"] == ["Unknown field."]


def test_token_credentials_are_never_blank_in_the_schema_or_the_server(db):
    client = client_for(None)
    body = schema(client)["paths"]["/api/auth/token/"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema(client)["components"]["schemas"][ref]["properties"]
    assert properties["username"]["minLength"] == properties["password"]["minLength"] == 1
    blank = client.post("/api/auth/token/", {"username": "", "password": ""}, format="json")
    assert blank.status_code == 400


def test_derived_signs_are_not_offered_nor_taken(coordinator, episode):
    client = client_for(coordinator)
    components = schema(client)["components"]["schemas"]
    offered = components["RedFlagInput"]["properties"]["sign"]
    enum = (
        components[offered["$ref"].rsplit("/", 1)[-1]]["enum"]
        if "$ref" in offered
        else offered["enum"]
    )
    assert "age_over_50_new_onset" not in enum
    assert "fever" in enum
    refused = client.post(
        url(f"episodes/{episode.pk}/red-flags/"), {"sign": "age_over_50_new_onset"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["sign"] == [
        "age_over_50_new_onset is derived by the system from the facts."
    ]


def test_a_transition_refuses_a_malformed_field_it_does_not_read(coordinator, episode):
    response = client_for(coordinator).post(
        url(f"episodes/{episode.pk}/transitions/escalate/"), {"guidance": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "guidance" in response.json()


def test_the_csv_report_is_documented_as_text_and_empty_parameters_are_refused(coordinator):
    client = client_for(coordinator)
    responses = schema(client)["paths"]["/api/reports/adherence/"]["get"]["responses"]
    for code in ("200", "400", "404"):
        assert responses[code]["content"]["text/csv"]["schema"]["type"] == "string", code
    assert client.get(url("reports/adherence/"), {"to": ""}).json()["to"]
    assert client.get(url("reports/adherence/"), {"format": "csv"}).status_code == 200


def test_an_unknown_api_path_with_a_newline_is_a_json_404(coordinator):
    response = client_for(coordinator).get("/api/patients/%0Ax/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_text_length_counts_what_is_sent_and_whitespace_is_blank(coordinator, episode):
    client = client_for(coordinator)
    reason = schema(client)["components"]["schemas"]["PatchedEpisodeUpdateInput"]["properties"][
        "reason"
    ]
    assert reason["pattern"] == r"\S"
    path = url(f"episodes/{episode.pk}/red-flags/")
    # 10,000 characters of note and a space after them: over maxLength, whatever trimming does.
    long = client.post(path, {"sign": "fever", "note": "x" * 10_000 + " "}, format="json")
    assert long.status_code == 400
    assert "note" in long.json()
    with at_day(3):
        blank = client.patch(
            url(f"episodes/{episode.pk}/"),
            {"symptom_onset": "2026-09-20", "reason": "   "},
            format="json",
        )
    assert blank.status_code == 400
    assert "reason" in blank.json()
    # The other way: text at the limit is taken.
    taken = client.post(path, {"sign": "fever", "note": "x" * 10_000}, format="json")
    assert taken.status_code == 201
