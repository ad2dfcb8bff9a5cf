"""POST /api/episodes/{id}/transitions/{name}/: 200, 400, 403, 404, 409 and 422."""

from __future__ import annotations

import pytest

from careflow import rules
from episodes import services
from episodes.models import Episode, TransitionLog
from tests.clients import url
from tests.clock import at_day
from tests.factories import new_episode


def post(client, episode, name, body=None):
    return client.post(url(f"episodes/{episode.pk}/transitions/{name}/"), body or {}, format="json")


def test_allowed_transition_returns_the_episode(as_user, coordinator, episode):
    with at_day(42):
        response = post(as_user(coordinator), episode, "confirm_imaging_eligibility")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == episode.pk
    assert body["state"] == "imaging_eligible"
    assert body["version"] == episode.version + 1
    assert {"facts", "red_flags", "deadlines", "next_actions", "available_transitions"} <= set(body)
    assert {t["name"] for t in body["available_transitions"]} >= {"schedule_esi", "resolve"}


def test_cc1_on_day_41_is_422_with_every_failing_rule(as_user, coordinator, episode):
    with at_day(41):
        response = post(as_user(coordinator), episode, "confirm_imaging_eligibility")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "guard_failed"
    assert {r["rule"] for r in body["reasons"]} == {rules.CC_1, rules.IM_2}
    cc1 = next(r for r in body["reasons"] if r["rule"] == rules.CC_1)
    assert "eligible on 2026-11-12" in cc1["message"]
    assert "CC-1" in body["detail"]
    unchanged = Episode.objects.get(pk=episode.pk)
    assert (unchanged.state, unchanged.version) == ("conservative_care", episode.version)
    assert not TransitionLog.objects.filter(episode=episode).exists()


def test_guard_lists_every_failing_rule(as_user, coordinator, patient):
    bare = new_episode(patient, coordinator)
    with at_day(10):
        response = post(as_user(coordinator), bare, "confirm_imaging_eligibility")
    assert response.status_code == 422
    assert [r["rule"] for r in response.json()["reasons"]] == [
        rules.CC_1,
        rules.IM_2,
        rules.IM_1,
        rules.IM_1,
    ]


def test_not_allowed_from_the_state_is_409_invalid_transition(as_user, coordinator, episode):
    response = post(as_user(coordinator), episode, "schedule_esi")
    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"


def test_stale_version_is_409_conflict(as_user, coordinator, clinician, episode):
    read = as_user(coordinator).get(url(f"episodes/{episode.pk}/")).json()["version"]
    services.assessment_record(episode_id=episode.pk, by=clinician, values={"disabling_pain": True})
    response = post(as_user(coordinator), episode, "resolve", {"version": read})
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"


def test_current_version_is_accepted(as_user, coordinator, episode):
    response = post(as_user(coordinator), episode, "resolve", {"version": episode.version})
    assert response.status_code == 200
    assert response.json()["state"] == "resolved"


def test_clinician_only_transition_by_a_coordinator_is_403(
    as_user, coordinator, clinician, episode
):
    with at_day(3):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="examined"
        )
        refused = post(as_user(coordinator), episode, "clear_escalation", {"note": "afebrile"})
        allowed = post(as_user(clinician), episode, "clear_escalation", {"note": "afebrile"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "permission_denied"
    assert allowed.status_code == 200
    assert allowed.json()["state"] == "conservative_care"


def test_unknown_transition_name_is_404(as_user, coordinator, episode):
    response = post(as_user(coordinator), episode, "teleport")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_other_teams_episode_is_404_even_for_a_valid_transition(
    as_user, coordinator, other_episode
):
    response = post(as_user(coordinator), other_episode, "resolve")
    assert response.status_code == 404
    assert Episode.objects.get(pk=other_episode.pk).state == "conservative_care"


@pytest.fixture
def imaging_eligible(episode, coordinator):
    with at_day(42):
        services.episode_transition(
            episode_id=episode.pk, name="confirm_imaging_eligibility", by=coordinator
        )
    return episode


def test_blind_esi_is_a_valid_choice_refused_by_esi2(as_user, coordinator, imaging_eligible):
    body = {"guidance": "blind", "approach": "interlaminar", "patient_consented": True}
    with at_day(43):
        response = post(as_user(coordinator), imaging_eligible, "schedule_esi", body)
    assert response.status_code == 422
    assert [r["rule"] for r in response.json()["reasons"]] == [rules.ESI_2]


def test_fluoroscopic_esi_is_scheduled(as_user, coordinator, imaging_eligible):
    body = {"guidance": "fluoroscopic", "approach": "transforaminal", "patient_consented": True}
    with at_day(43):
        response = post(as_user(coordinator), imaging_eligible, "schedule_esi", body)
    assert response.status_code == 200
    assert response.json()["state"] == "esi"


@pytest.mark.parametrize(
    "case",
    [
        ("schedule_esi", {"guidance": "ultrasound"}, "guidance"),
        ("schedule_esi", {"patient_consented": "maybe"}, "patient_consented"),
        ("refer_to_specialist", {"urgency": "tomorrow"}, "urgency"),
        ("close", {}, "reason"),
        ("close", {"reason": "bored"}, "reason"),
        ("decline_surgery", {"reason": ""}, "reason"),
        ("plan_surgery", {"procedure": "laminectomy"}, "procedure"),
        ("resolve", {"version": "three"}, "version"),
    ],
)
def test_unknown_choices_and_missing_fields_are_400(as_user, coordinator, imaging_eligible, case):
    name, body, field = case
    response = post(as_user(coordinator), imaging_eligible, name, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid"
    assert field in response.json()


def test_close_with_a_reason_is_logged_with_its_body(as_user, coordinator, episode):
    response = post(as_user(coordinator), episode, "close", {"reason": "transferred"})
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    log = TransitionLog.objects.get(episode=episode)
    assert log.body == {"reason": "transferred"}
    assert log.by == coordinator


def test_terminal_episode_cannot_move_again(as_user, coordinator, episode):
    client = as_user(coordinator)
    assert post(client, episode, "resolve").status_code == 200
    response = post(client, episode, "close", {"reason": "other"})
    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"
