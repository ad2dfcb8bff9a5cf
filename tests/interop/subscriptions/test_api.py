"""/fhir/Subscription and /fhir/SubscriptionTopic over HTTP: create, read, $status, delete."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from interop.clients import fhir_client_create
from interop.subscriptions.endpoints import EndpointRefused, target
from interop.subscriptions.models import Subscription
from tests.clients import client_for
from tests.interop.helpers import FHIR_JSON, validate
from tests.interop.subscriptions.helpers import subscription_body

pytestmark = pytest.mark.django_db

TOPICS = {
    "https://careflow.example.org/fhir/SubscriptionTopic/red-flag",
    "https://careflow.example.org/fhir/SubscriptionTopic/task-changed",
}


def _post(client, body):
    return client.post("/fhir/Subscription", body, format="json", HTTP_ACCEPT=FHIR_JSON)


def test_create_read_status_delete(receiver, coordinator):
    client = client_for(coordinator)
    made = _post(client, subscription_body(receiver.url, "red-flag"))
    assert made.status_code == 201, made.content
    resource = made.json()
    validate(resource)
    assert made["Location"].endswith(f"/fhir/Subscription/{resource['id']}")
    assert resource["status"] == "requested"
    assert resource["criteria"].endswith("/SubscriptionTopic/red-flag")
    assert resource["channel"]["_payload"]["extension"][0]["valueCode"] == "id-only"
    read = client.get(f"/fhir/Subscription/{resource['id']}")
    assert read.status_code == 200
    validate(read.json())
    status = client.get(f"/fhir/Subscription/{resource['id']}/$status")
    assert status.status_code == 200
    bundle = status.json()
    validate(bundle)
    (entry,) = bundle["entry"]
    assert entry["resource"]["type"] == "query-status"
    assert entry["resource"]["eventsSinceSubscriptionStart"] == "0"
    listed = client.get("/fhir/Subscription").json()
    validate(listed)
    assert [e["resource"]["id"] for e in listed["entry"]] == [resource["id"]]
    assert client.delete(f"/fhir/Subscription/{resource['id']}").status_code == 204
    gone = client.get(f"/fhir/Subscription/{resource['id']}")
    assert gone.status_code == 410
    validate(gone.json())
    assert Subscription.objects.get().status == "off"


def test_delete_honours_if_match(receiver, coordinator):
    client = client_for(coordinator)
    made = _post(client, subscription_body(receiver.url, "red-flag")).json()
    path = f"/fhir/Subscription/{made['id']}"
    read = client.get(path)
    etag = read["ETag"]
    assert etag == f'W/"{read.json()["meta"]["versionId"]}"'
    assert read["Last-Modified"]
    # The subscription changes after the client read it (a delivery failed: error, status).
    Subscription.objects.filter(pk=made["id"]).update(status="error", error="timed out")
    stale = client.delete(path, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    validate(stale.json())
    assert "changed since that version" in stale.json()["issue"][0]["diagnostics"]
    assert Subscription.objects.get().status == "error"
    fresh = client.get(path)["ETag"]
    assert fresh != etag
    assert client.delete(path, HTTP_IF_MATCH=fresh.removeprefix("W/")).status_code == 204
    assert Subscription.objects.get().status == "off"
    # Deleted: no version matches, not even *; without If-Match a delete stays idempotent.
    assert client.delete(path, HTTP_IF_MATCH="*").status_code == 412
    assert client.delete(path).status_code == 204


def test_if_match_star_deletes_a_live_subscription(receiver, coordinator):
    client = client_for(coordinator)
    made = _post(client, subscription_body(receiver.url, "red-flag")).json()
    path = f"/fhir/Subscription/{made['id']}"
    assert client.delete(path, HTTP_IF_MATCH='W/"0000", *').status_code == 412
    assert Subscription.objects.get().status == "requested"
    assert client.delete(path, HTTP_IF_MATCH="*").status_code == 204
    assert Subscription.objects.get().status == "off"


def test_another_users_subscription_is_a_404(receiver, coordinator, other_coordinator, team):
    from tests.factories import MembershipFactory, UserFactory  # noqa: PLC0415

    made = _post(client_for(coordinator), subscription_body(receiver.url, "red-flag")).json()
    mate = UserFactory(username="mate")
    MembershipFactory(team=team, user=mate, role="coordinator")
    for user in (other_coordinator, mate):
        client = client_for(user)
        assert client.get(f"/fhir/Subscription/{made['id']}").status_code == 404
        assert client.delete(f"/fhir/Subscription/{made['id']}").status_code == 404
        assert client.get(f"/fhir/Subscription/{made['id']}/$status").status_code == 404
        assert "entry" not in client.get("/fhir/Subscription").json()
    assert Subscription.objects.get().status == "requested"


def test_a_subscription_hears_its_owners_teams(receiver, coordinator, team):
    _post(client_for(coordinator), subscription_body(receiver.url, "task-changed"))
    assert Subscription.objects.get().team_ids == [team.pk]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"criteria": "Flag?status=active"}, "SubscriptionTopics"),
        ({"channel": {"type": "websocket"}}, "rest-hook"),
        ({"endpoint": "http://example.org/hook"}, "https"),
        ({"endpoint": "https://10.1.2.3/hook"}, "private"),
        ({"endpoint": "https://169.254.169.254/latest/meta-data"}, "private"),
        ({"endpoint": "https://[::1]/hook"}, "private"),
        ({"endpoint": "https://user:pw@example.org/hook"}, "credentials"),
        ({"endpoint": "ftp://example.org/hook"}, "https"),
        ({"content": "everything"}, "payload content"),
        ({"header": ["Authorization: Bearer x\r\nX-Evil: 1"]}, "one-line"),
        ({"header": "Authorization: x"}, "list"),
        ({"end": "2001-01-01T00:00:00Z"}, "future"),
        ({"reason": None}, "reason"),
        ({"resourceType": "Patient"}, "Subscription resource"),
    ],
)
def test_refusals_are_400s_in_words_and_make_nothing(receiver, coordinator, change, words):
    body = subscription_body(receiver.url, "red-flag")
    if "endpoint" in change:
        body["channel"]["endpoint"] = change["endpoint"]
    elif "content" in change:
        body["channel"]["_payload"]["extension"][0]["valueCode"] = change["content"]
    elif "header" in change:
        body["channel"]["header"] = change["header"]
    elif "channel" in change:
        body["channel"].update(change["channel"])
    else:
        body.update(change)
        body = {k: v for k, v in body.items() if v is not None}
    response = _post(client_for(coordinator), body)
    assert response.status_code == 400, response.content
    outcome = response.json()
    validate(outcome)
    text = " ".join(i["diagnostics"] for i in outcome["issue"])
    assert words in text, text
    assert "ErrorDetail" not in text
    assert Subscription.objects.count() == 0


def test_loopback_is_refused_unless_allowed(settings):
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = []
    with pytest.raises(EndpointRefused, match="https"):
        target("http://127.0.0.1:9/hook")
    with pytest.raises(EndpointRefused, match="private"):
        target("https://127.0.0.1:9/hook")
    with pytest.raises(EndpointRefused, match="private"):
        target("https://localhost/hook")
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = ["127.0.0.1"]
    assert target("http://127.0.0.1:9/hook?a=1").path == "/hook?a=1"


def test_an_oauth_client_needs_the_write_scope_to_subscribe(receiver, team):
    client = fhir_client_create(team=team, name="EHR")

    def token(scope):
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        answer = (
            APIClient()
            .post(
                "/o/token/",
                f"grant_type=client_credentials&scope={scope}",
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=f"Basic {basic}",
            )
            .json()
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer['access_token']}")
        return api

    reader = token("system/*.read")
    assert _post(reader, subscription_body(receiver.url, "red-flag")).status_code == 403
    writer = token("system/*.read system/*.write")
    made = _post(writer, subscription_body(receiver.url, "red-flag"))
    assert made.status_code == 201
    assert Subscription.objects.get().team_ids == [team.pk]
    assert reader.get(f"/fhir/Subscription/{made.json()['id']}").status_code == 200
    assert reader.delete(f"/fhir/Subscription/{made.json()['id']}").status_code == 403


def test_topics_are_served_and_advertised(coordinator):
    client = client_for(coordinator)
    found = client.get("/fhir/SubscriptionTopic").json()
    validate(found)
    urls = {e["resource"]["url"] for e in found["entry"]}
    assert urls == TOPICS
    for entry in found["entry"]:
        validate(entry["resource"])
        one = client.get(f"/fhir/SubscriptionTopic/{entry['resource']['id']}").json()
        assert one == {k: v for k, v in entry["resource"].items() if k != "meta"}
    assert client.get("/fhir/SubscriptionTopic/nonsense").status_code == 404
    statement = client.get("/fhir/metadata").json()
    validate(statement)
    declared = {r["type"]: r for r in statement["rest"][0]["resource"]}
    subscription = declared["Subscription"]
    assert {i["code"] for i in subscription["interaction"]} == {
        "create",
        "read",
        "delete",
        "search-type",
    }
    assert {e["valueCanonical"] for e in subscription["extension"]} == TOPICS
    assert subscription["operation"][0]["name"] == "status"
    assert {i["code"] for i in declared["SubscriptionTopic"]["interaction"]} == {
        "read",
        "search-type",
    }


def test_no_input_is_a_500(receiver, coordinator):
    client = client_for(coordinator)
    for path in (
        "Subscription/abc",
        "Subscription/99999999999999999999999",
        "Subscription/-1/$status",
        "Subscription?_id=x",
        "Subscription?status=active",
        "SubscriptionTopic?_id=,",
    ):
        response = client.get(f"/fhir/{path}")
        assert response.status_code in (200, 400, 404), (path, response.content)
        validate(response.json())
    for body in (
        [],
        "x",
        {"resourceType": "Subscription"},
        {"resourceType": "Subscription", "channel": 5},
    ):
        response = _post(client, body)
        assert response.status_code == 400, (body, response.content)
        validate(response.json())
