"""/api/teams/: the same services as the pages, in the API's shapes, in the OpenAPI schema."""

import pytest
from django.core import mail

from episodes.models import CareTeamMembership
from teams.models import Invitation, TeamChange
from tests.clients import client_for


def test_a_lead_lists_invites_changes_and_deactivates(
    lead, team, coordinator, django_capture_on_commit_callbacks
):
    api = client_for(lead)
    assert api.get("/api/teams/").json() == [{"id": team.pk, "name": "Team A"}]
    members = api.get(f"/api/teams/{team.pk}/members/").json()
    assert {m["username"]: (m["role"], m["is_lead"], m["is_active"]) for m in members} == {
        "lead-a": ("coordinator", True, True),
        "coord-a": ("coordinator", False, True),
    }
    assert next(m for m in members if m["username"] == "lead-a")["full_name"] == "Lena Lead"

    with django_capture_on_commit_callbacks(execute=True):
        invited = api.post(
            f"/api/teams/{team.pk}/invitations/",
            {"email": "nia@example.org", "given_name": "Nia", "family_name": "Okafor"},
            format="json",
        )
    assert invited.status_code == 201, invited.json()
    assert invited.json()["role"] == "coordinator"
    assert len(mail.outbox) == 1
    pending = api.get(f"/api/teams/{team.pk}/invitations/").json()
    assert [i["email"] for i in pending] == ["nia@example.org"]
    assert pending[0]["sent_at"] is not None

    made = api.patch(
        f"/api/teams/{team.pk}/members/{coordinator.pk}/", {"role": "clinician"}, format="json"
    )
    assert made.status_code == 200
    assert made.json()["role"] == "clinician"

    coordinator_api = client_for(coordinator)
    gone = api.post(f"/api/teams/{team.pk}/members/{coordinator.pk}/deactivate/")
    assert gone.status_code == 200
    assert gone.json()["is_active"] is False
    assert coordinator_api.get("/api/queues/").status_code == 401

    changes = api.get(f"/api/teams/{team.pk}/changes/").json()
    assert [c["action"] for c in changes] == ["deactivated", "role_set", "invited"]
    assert changes[0]["by"] == "Lena Lead"
    assert changes[0]["subject_user_id"] == coordinator.pk


def test_bad_input_is_a_400_that_changes_nothing(lead, team, coordinator):
    api = client_for(lead)
    for body in (
        {"email": "nia@example.org", "given_name": "Nia", "family_name": "O", "extra": 1},
        {"email": "not-an-address", "given_name": "Nia", "family_name": "O"},
        {"email": 5, "given_name": "Nia", "family_name": "O"},
        {"email": "nia@example.org", "given_name": "Nia", "family_name": "O", "role": "x"},
    ):
        answer = api.post(f"/api/teams/{team.pk}/invitations/", body, format="json")
        assert answer.status_code == 400, body
        assert answer.json()["error"] == "invalid"
    assert (
        api.patch(
            f"/api/teams/{team.pk}/members/{coordinator.pk}/", {"role": "boss"}, format="json"
        ).status_code
        == 400
    )
    assert api.post(f"/api/teams/{team.pk}/members/{lead.pk}/deactivate/").status_code == 400
    assert api.delete(f"/api/teams/{team.pk}/lead/").status_code == 400  # the last lead
    assert not Invitation.objects.exists()
    assert not TeamChange.objects.exists()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/teams/{team}/members/", None),
        ("get", "/api/teams/{team}/invitations/", None),
        (
            "post",
            "/api/teams/{team}/invitations/",
            {"email": "a@example.org", "given_name": "A", "family_name": "B"},
        ),
        ("patch", "/api/teams/{team}/members/{member}/", {"role": "coordinator"}),
        ("post", "/api/teams/{team}/members/{member}/deactivate/", None),
        ("get", "/api/teams/{team}/changes/", None),
        ("delete", "/api/teams/{team}/lead/", None),
    ],
)
def test_a_coordinator_gets_403_and_another_teams_lead_404(  # noqa: PLR0917 - fixtures
    method, path, body, team, coordinator, clinician, other_lead
):
    url = path.format(team=team.pk, member=clinician.pk)
    refused = getattr(client_for(coordinator), method)(url, body, format="json")
    assert refused.status_code == 403
    assert "leads manage its members" in refused.json()["detail"]
    assert getattr(client_for(other_lead), method)(url, body, format="json").status_code == 404
    clinician.refresh_from_db()
    assert clinician.is_active
    assert CareTeamMembership.objects.get(user=clinician).role == "clinician"
    assert not TeamChange.objects.exists()


def test_the_operations_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/teams/{team_id}/members/{user_id}/"]) >= {"patch"}
    assert "post" in paths["/api/teams/{team_id}/invitations/"]
    assert "post" in paths["/api/teams/{team_id}/members/{user_id}/deactivate/"]
    assert "delete" in paths["/api/teams/{team_id}/lead/"]
    assert "get" in paths["/api/teams/{team_id}/changes/"]
    body = paths["/api/teams/{team_id}/invitations/"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("TeamInvitationInput")
