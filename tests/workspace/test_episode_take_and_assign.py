"""Who has the episode, on its page: take or assign it; a colleague's only once confirmed."""

from __future__ import annotations

from episodes import services
from episodes.models import Episode
from tests.clock import at_day
from tests.workspace.helpers import signed_in, text, words


def assignee(episode):
    return Episode.objects.get(pk=episode.pk).assigned_to


def test_the_banner_says_who_has_it_by_full_name(coordinator, clinician, episode):
    clinician.first_name, clinician.last_name = "Robin", "Okafor"
    clinician.save()
    services.episode_update(
        episode_id=episode.pk, by=coordinator, fields={"assigned_to": clinician}
    )
    with at_day(3):
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
        own = words(signed_in(clinician).get(f"/episodes/{episode.pk}/"))
    assert "Who has it: Robin Okafor Take" in page
    assert "Who has it: Robin Okafor (you)" in own
    assert "Take" not in own[own.index("Who has it:") : own.index("What to do next")]


def test_taking_an_unassigned_episode_needs_no_question(coordinator, episode):
    with at_day(3):
        response = signed_in(coordinator).post(
            f"/episodes/{episode.pk}/assignee/", {"take": "me", "assigned_to": ""}
        )
    assert response.status_code == 302
    assert response["Location"] == f"/episodes/{episode.pk}/?done=assigned#top"
    assert assignee(episode) == coordinator


def test_taking_a_colleagues_episode_asks_first(coordinator, clinician, episode):
    clinician.first_name, clinician.last_name = "Robin", "Okafor"
    clinician.save()
    services.episode_update(episode_id=episode.pk, by=clinician, fields={"assigned_to": clinician})
    client = signed_in(coordinator)
    url = f"/episodes/{episode.pk}/assignee/"
    with at_day(3):
        asked = client.post(url, {"take": "me", "assigned_to": str(clinician.pk)})
    page = text(asked)
    assert asked.status_code == 200
    assert "Take this patient from Robin Okafor?" in page
    assert f'<input type="hidden" name="assigned_to" value="{coordinator.pk}">' in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert "No, leave it with Robin Okafor" in page
    assert assignee(episode) == clinician  # nothing changed yet

    with at_day(3):
        taken = client.post(url, {"assigned_to": str(coordinator.pk), "confirmed": "yes"})
    assert taken.status_code == 302
    assert assignee(episode) == coordinator


def test_assigning_to_a_colleague_from_nobody_or_from_oneself_needs_no_question(
    coordinator, clinician, episode
):
    client = signed_in(coordinator)
    url = f"/episodes/{episode.pk}/assignee/"
    with at_day(3):
        to_clinician = client.post(url, {"assigned_to": str(clinician.pk)})
    assert to_clinician.status_code == 302
    assert assignee(episode) == clinician
    with at_day(3):
        back = signed_in(clinician).post(url, {"assigned_to": str(coordinator.pk)})
    assert back.status_code == 302
    assert assignee(episode) == coordinator


def test_assigning_outside_the_team_is_refused_and_changes_nothing(
    coordinator, other_coordinator, episode
):
    client = signed_in(coordinator)
    url = f"/episodes/{episode.pk}/assignee/"
    with at_day(3):
        outsider = client.post(url, {"assigned_to": str(other_coordinator.pk)})
        nonsense = client.post(url, {"assigned_to": "9" * 30})
    assert outsider.status_code == 400
    assert "Not a member of the episode's care team." in text(outsider)
    assert nonsense.status_code == 400
    assert assignee(episode) is None


def test_another_teams_episode_cannot_be_taken(other_coordinator, episode):
    with at_day(3):
        response = signed_in(other_coordinator).post(
            f"/episodes/{episode.pk}/assignee/", {"take": "me"}
        )
    assert response.status_code == 404
    assert assignee(episode) is None
