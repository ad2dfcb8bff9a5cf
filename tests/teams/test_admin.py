"""The admin: a superuser appoints and removes team leads through the services (audited)."""

from episodes.models import CareTeamMembership
from teams.models import TeamChange


def test_a_superuser_appoints_and_removes_a_lead_in_the_admin(client, superuser, team, coordinator):
    client.force_login(superuser)
    membership = CareTeamMembership.objects.get(user=coordinator)
    listing = client.get("/admin/teams/teamleadmembership/")
    assert listing.status_code == 200
    answer = client.post(
        "/admin/teams/teamleadmembership/",
        {"action": "appoint_lead", "_selected_action": [membership.pk]},
    )
    assert answer.status_code == 302
    membership.refresh_from_db()
    assert membership.is_lead
    client.post(
        "/admin/teams/teamleadmembership/",
        {"action": "remove_lead", "_selected_action": [membership.pk]},
    )
    membership.refresh_from_db()
    assert not membership.is_lead
    assert list(TeamChange.objects.order_by("id").values_list("action", "by")) == [
        ("lead_appointed", superuser.pk),
        ("lead_removed", superuser.pk),
    ]
    # The audit is read in the admin, never changed there.
    change = TeamChange.objects.first()
    assert client.get(f"/admin/teams/teamchange/{change.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/teams/teamchange/{change.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/teams/teamleadmembership/add/").status_code == 403


def test_the_care_team_page_shows_the_lead_role_read_only(client, superuser, team, coordinator):
    client.force_login(superuser)
    page = client.get(f"/admin/episodes/careteam/{team.pk}/change/").content.decode()
    assert 'name="memberships-0-is_lead"' not in page
