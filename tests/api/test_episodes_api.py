"""POST/GET/PATCH /api/episodes/ and the episode representation."""

from __future__ import annotations

from datetime import date

import pytest

from careflow import rules
from episodes.models import Episode
from notifications.models import Reminder
from tests.clients import url
from tests.clock import ONSET, at_day
from tests.factories import MembershipFactory, PatientFactory, UserFactory, new_episode


def create(client, patient, **body):
    return client.post(
        url("episodes/"),
        {"patient": patient.pk, "symptom_onset": "2026-10-01", **body},
        format="json",
    )


def test_create_returns_the_full_representation(as_user, coordinator, patient, team):
    with at_day(2):
        response = create(as_user(coordinator), patient, radicular_pain=True)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["patient"] == patient.pk
    assert body["care_team"] == team.pk
    assert body["state"] == "conservative_care"
    assert body["conservative_care_start"] == "2026-10-03"  # defaults to today
    assert body["days_since_onset"] == 2
    assert body["days_of_conservative_care"] == 0
    assert body["facts"]["radicular_pain"] is True
    assert body["facts"]["disabling_pain"] is False
    assert body["next_actions"][0] == {
        "action": "educate_patient",
        "due": "2026-10-03",
        "rule": rules.CC_2,
    }
    assert {"kind": "specialist_referral", "due": "2027-01-01", "rule": rules.REF_1} in [
        {k: d[k] for k in ("kind", "due", "rule")} for d in body["deadlines"]
    ]
    imaging = next(
        t for t in body["available_transitions"] if t["name"] == "confirm_imaging_eligibility"
    )
    assert imaging["allowed"] is False
    assert rules.CC_1 in {r["rule"] for r in imaging["reasons"]}
    assert body["red_flags"] == []
    assert body["care_plan"] == []
    assert Reminder.objects.filter(episode_id=body["id"]).count() == 6


def test_create_derives_rf3_and_escalates(as_user, coordinator, team):
    older = PatientFactory(care_team=team, birth_date=date(1960, 1, 1))
    with at_day(0):
        response = create(as_user(coordinator), older, new_onset_pain=True)
    body = response.json()
    assert body["state"] == "urgent_escalation"
    assert [(f["sign"], f["category"], f["status"]) for f in body["red_flags"]] == [
        ("age_over_50_new_onset", rules.RF_3, "active")
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"symptom_onset": "2026-10-09"}, "symptom_onset"),  # future
        ({"conservative_care_start": "2026-09-30"}, "conservative_care_start"),  # before onset
        ({"conservative_care_start": "2026-10-09"}, "conservative_care_start"),  # future
        ({"symptom_onset": "1850-01-01"}, "symptom_onset"),
        ({"symptom_onset": "yesterday"}, "symptom_onset"),
        ({"radicular_pain": "sometimes"}, "radicular_pain"),
        ({"assigned_to": 10**6}, "assigned_to"),
    ],
)
def test_invalid_episode_is_400(as_user, coordinator, patient, body, field):
    with at_day(5):
        response = create(as_user(coordinator), patient, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Episode.objects.exists()


def test_another_teams_patient_is_400_without_saying_it_exists(as_user, coordinator, other_team):
    stranger = PatientFactory(care_team=other_team)
    with at_day(2):
        response = create(as_user(coordinator), stranger)
        missing = as_user(coordinator).post(
            url("episodes/"), {"patient": 10**9, "symptom_onset": "2026-10-01"}, format="json"
        )
    assert response.status_code == missing.status_code == 400
    assert response.json()["patient"] == missing.json()["patient"]


def test_get_detail(as_user, coordinator, episode):
    response = as_user(coordinator).get(url(f"episodes/{episode.pk}/"))
    assert response.status_code == 200
    assert response.json()["version"] == episode.version


def test_patch_dates_and_assignee(as_user, coordinator, clinician, episode):
    client = as_user(coordinator)
    with at_day(5):
        response = client.patch(
            url(f"episodes/{episode.pk}/"),
            {
                "conservative_care_start": "2026-10-04",
                "assigned_to": clinician.pk,
                "reason": "therapy began at the first visit",
            },
            format="json",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["conservative_care_start"] == "2026-10-04"
    assert body["assigned_to"] == clinician.pk
    six_weeks = Reminder.objects.get(episode=episode, milestone="6_weeks", audience="patient")
    assert six_weeks.milestone_date == date(2026, 11, 15)  # rescheduled
    unassigned = client.patch(url(f"episodes/{episode.pk}/"), {"assigned_to": None}, format="json")
    assert unassigned.json()["assigned_to"] is None


def test_patch_refuses_an_assignee_outside_the_team(
    as_user, coordinator, other_coordinator, episode
):
    response = as_user(coordinator).patch(
        url(f"episodes/{episode.pk}/"), {"assigned_to": other_coordinator.pk}, format="json"
    )
    assert response.status_code == 400
    assert "assigned_to" in response.json()


def test_patch_refuses_future_dates(as_user, coordinator, episode):
    with at_day(5):
        response = as_user(coordinator).patch(
            url(f"episodes/{episode.pk}/"), {"symptom_onset": "2026-10-07"}, format="json"
        )
    assert response.status_code == 400
    assert Episode.objects.get(pk=episode.pk).symptom_onset == ONSET


def test_list_filters(as_user, coordinator, clinician, team, patient):
    first = new_episode(patient, coordinator)
    second_patient = PatientFactory(care_team=team)
    second = new_episode(second_patient, coordinator)
    Episode.objects.filter(pk=second.pk).update(assigned_to=clinician)
    third = new_episode(second_patient, coordinator)
    with at_day(1):
        from episodes import services  # noqa: PLC0415

        services.episode_transition(episode_id=third.pk, name="resolve", by=coordinator)
    client = as_user(coordinator)

    def ids(query):
        response = client.get(url(f"episodes/?{query}"))
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [first.pk, second.pk, third.pk]
    assert ids(f"patient={second_patient.pk}") == [second.pk, third.pk]
    assert ids("state=resolved") == [third.pk]
    assert ids(f"assigned_to={clinician.pk}") == [second.pk]
    assert ids(f"care_team={team.pk}") == [first.pk, second.pk, third.pk]
    assert ids(f"care_team={team.pk + 1000}") == []


def test_list_pages_with_next_and_previous(as_user, coordinator, patient):
    made = [new_episode(patient, coordinator).pk for _ in range(5)]
    client = as_user(coordinator)
    first = client.get(url("episodes/?page_size=2")).json()
    assert [r["id"] for r in first["results"]] == made[:2]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == made[2:4]
    third = client.get(second["next"]).json()
    assert [r["id"] for r in third["results"]] == made[4:]
    assert third["next"] is None
    back = client.get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == made[2:4]
    assert [r["id"] for r in client.get(back["previous"]).json()["results"]] == made[:2]


def test_a_user_in_no_team_sees_nothing(as_user, episode):
    loner = UserFactory(username="loner")
    assert as_user(loner).get(url("episodes/")).json()["results"] == []
    assert as_user(loner).get(url(f"episodes/{episode.pk}/")).status_code == 404


def test_membership_in_a_second_team_shows_its_episodes(as_user, coordinator, other_episode):
    MembershipFactory(team=other_episode.care_team, user=coordinator)
    assert as_user(coordinator).get(url(f"episodes/{other_episode.pk}/")).status_code == 200
