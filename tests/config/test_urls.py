from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_token_endpoint_answers_bad_credentials_in_json(client):
    response = client.post(
        "/api/auth/token/",
        {"username": "nobody", "password": "wrong"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "non_field_errors" in response.json()


def test_token_endpoint_gives_a_token_for_a_valid_login(client):
    get_user_model().objects.create_user(username="casey", password="s3cret-pass")

    response = client.post(
        "/api/auth/token/",
        {"username": "casey", "password": "s3cret-pass"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["token"]


def test_openapi_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_swagger_ui_assets_are_served_locally(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
