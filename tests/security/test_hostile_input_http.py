"""What a client sends never makes a 500, over real HTTP (a live server, raw bytes on the wire).

OPTIONS on every list (DRF's metadata asks the view for a serializer); a token that is not
UTF-8; digits that are not ASCII (``"²".isdigit()`` is true, ``int("²")`` fails); NUL bytes
in searches. Each is a clear 2xx or 4xx and changes nothing.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
from knox.models import AuthToken

from episodes.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)


def send(live_server, method: str, path: str, *, token: bytes | None = None, body: bytes = b""):
    """One request as raw bytes (http.client sends a header's bytes as they are)."""
    where = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        if token is not None:
            connection.putheader(b"Authorization", b"Token " + token)
        if body:
            connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def token(coordinator) -> bytes:
    return AuthToken.objects.create(user=coordinator)[1].encode()


@pytest.mark.parametrize("path", ["/api/episodes/", "/api/patients/", "/api/queues/urgent/"])
def test_options_on_a_list_describes_it(live_server, token, path):
    status, body = send(live_server, "OPTIONS", path, token=token)
    assert status == 200, body[:300]
    assert json.loads(body)["name"]


@pytest.mark.parametrize("path", ["/api/episodes/", "/fhir/metadata", "/fhir/Patient"])
def test_a_token_that_is_not_utf8_is_401(live_server, path):
    status, body = send(live_server, "GET", path, token=b"\xe9\xe9")
    assert status == 401, body[:300]


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Patient/%C2%B2",
        "/fhir/Patient/%C2%B2/$everything",
        "/fhir/Patient?_count=%C2%B2",
        "/fhir/Condition?patient=%C2%B2",
        "/api/queues/urgent/?page_size=%C2%B2",
        "/api/episodes/?page_size=%D9%A3",
        "/api/patients/%C2%B2/",
    ],
)
def test_digits_that_are_not_ascii_are_refused_as_ids(live_server, token, path):
    status, body = send(live_server, "GET", path, token=token)
    assert 400 <= status < 500, (status, body[:300])


@pytest.mark.parametrize(
    "path",
    ["/fhir/Patient?name=a%00b", "/fhir/Patient?family=%00", "/api/patients/?q=a%00b"],
)
def test_a_nul_byte_in_a_search_is_a_400(live_server, token, path):
    status, body = send(live_server, "GET", path, token=token)
    assert status == 400, (status, body[:300])


def test_a_nul_byte_in_a_fhir_post_search_is_a_400(live_server, token):
    status, body = send(
        live_server, "POST", "/fhir/Patient/_search", token=token, body=b"name=a%00b"
    )
    assert status == 400, (status, body[:300])
    assert not Patient.objects.exists()
