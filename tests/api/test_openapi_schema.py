"""The OpenAPI schema validates with no warnings, and the docs page is served."""

from __future__ import annotations

from django.core.management import call_command

from tests.clients import url


def test_schema_validates_without_warnings(db, tmp_path):
    # --fail-on-warn makes any drf-spectacular warning (an unannotated view, a name
    # collision) fail the command with SystemExit.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/episodes/{episode_id}/transitions/{name}/",
        "/api/queues/{name}/",
        "/api/patients/",
        "/api/auth/token/",
    ):
        assert f"{path}:" in text


def test_schema_and_docs_are_served(client):
    schema = client.get(url("schema/"))
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get(url("docs/"))
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
