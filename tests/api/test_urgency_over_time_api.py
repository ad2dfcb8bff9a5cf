"""Urgency is never lowered silently, over HTTP: each rule through the API.

The service-level proofs are in tests/episodes/test_urgency_over_time.py; these show the
same rules reach a client with the status codes and error shapes API.md names.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from careflow import rules
from episodes import services
from episodes.models import CareTeam, Episode, Patient, RedFlag
from tests.api.helpers import ANA
from tests.clients import url
from tests.clock import ONSET, at_day
from tests.factories import PatientFactory, new_episode


def post(client, path, body, day):
    with at_day(day):
        return client.post(url(path), body, format="json")


def patch(client, path, body, day):
    with at_day(day):
        return client.patch(url(path), body, format="json")


def move(client, episode, name, body, day):
    return post(client, f"episodes/{episode.pk}/transitions/{name}/", body, day)


def rules_of(response) -> list[str]:
    return [r["rule"] for r in response.json()["reasons"]]


def flagged(patient, coordinator, sign="saddle_anesthesia", day=2):
    episode = new_episode(patient, coordinator)
    with at_day(day):
        services.red_flag_raise(episode_id=episode.pk, sign=sign, by=coordinator)
    return episode


# -- URG-1 waives persistent radicular symptoms, never compression or SX-3 ----------------------


def test_urg1_surgical_review_without_leg_pain(as_user, patient, coordinator, clinician):
    """URG-1: cauda equina (RF-1), compression, SX-3: review opens without radicular pain."""
    episode = flagged(patient, coordinator)
    client = as_user(clinician)
    assert (
        move(client, episode, "refer_to_specialist", {"urgency": "immediate"}, 2).status_code == 200
    )
    refused = move(client, episode, "begin_surgical_review", {}, 2)
    assert refused.status_code == 422
    assert rules_of(refused) == [rules.SX_1]  # compression on imaging is never waived
    study = {"performed_on": "2026-10-03", "nerve_root_compression": True}
    assert post(client, f"episodes/{episode.pk}/imaging/", study, 2).status_code == 201
    refused = move(client, episode, "begin_surgical_review", {}, 2)
    assert rules_of(refused) == [rules.SX_3]  # nor is clinical correlation
    study["clinically_correlated"] = True
    post(client, f"episodes/{episode.pk}/imaging/", study, 2)
    response = move(client, episode, "begin_surgical_review", {}, 2)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "surgical_review"


# -- REF-3's deadline runs from the first recording of the current run --------------------------


def test_ref3_deadline_does_not_slide_when_recorded_again(as_user, patient, coordinator):
    episode = new_episode(patient, coordinator)
    client = as_user(coordinator)
    path = f"episodes/{episode.pk}/assessments/"
    post(client, path, {"neurological_deficit": True}, 3)
    post(client, path, {"neurological_deficit": True}, 8)
    with at_day(8):
        body = client.get(url(f"episodes/{episode.pk}/")).json()
    assert body["deadlines"][0] == {
        "kind": "specialist_referral",
        "due": "2026-10-04",
        "rule": rules.REF_3,
        "overdue": True,
    }


# -- urgency clears only when someone decides ---------------------------------------------------


def test_a_routine_referral_of_a_flagged_episode_is_422(as_user, patient, coordinator):
    episode = flagged(patient, coordinator)
    client = as_user(coordinator)
    before = client.get(url(f"episodes/{episode.pk}/")).json()
    response = move(client, episode, "refer_to_specialist", {"urgency": "routine"}, 2)
    assert response.status_code == 422
    assert response.json()["error"] == "guard_failed"
    assert rules_of(response) == [rules.RF_1]
    after = client.get(url(f"episodes/{episode.pk}/")).json()
    assert (after["state"], after["version"], after["urgent_since"]) == (
        before["state"],
        before["version"],
        before["urgent_since"],
    )
    assert (
        move(client, episode, "refer_to_specialist", {"urgency": "immediate"}, 2).status_code == 200
    )


def test_ruling_out_is_for_a_clinician_with_a_note(as_user, patient, coordinator, clinician):
    episode = flagged(patient, coordinator, sign="fever")
    flag = RedFlag.objects.get(episode=episode)
    path = f"episodes/{episode.pk}/red-flags/{flag.pk}/"
    by_coordinator = patch(as_user(coordinator), path, {"status": "ruled_out", "note": "ok"}, 3)
    assert by_coordinator.status_code == 403
    without_note = patch(as_user(clinician), path, {"status": "ruled_out"}, 3)
    assert without_note.status_code == 400
    assert "note" in without_note.json()
    assert RedFlag.objects.get(pk=flag.pk).status == "active"
    done = patch(as_user(clinician), path, {"status": "ruled_out", "note": "afebrile"}, 3)
    assert done.status_code == 200
    assert done.json()["status"] == "ruled_out"


def test_a_flag_after_the_referral_sets_a_deadline(as_user, patient, coordinator):
    episode = new_episode(patient, coordinator)
    client = as_user(coordinator)
    move(client, episode, "refer_to_specialist", {"urgency": "routine"}, 5)
    post(client, f"episodes/{episode.pk}/red-flags/", {"sign": "fever"}, 20)
    with at_day(20):
        body = client.get(url(f"episodes/{episode.pk}/")).json()
    assert body["state"] == "urgent_escalation"
    assert body["deadlines"][0] == {
        "kind": "specialist_referral",
        "due": "2026-10-21",
        "rule": rules.RF_4,
        "overdue": False,
    }


def test_resolve_is_422_and_close_is_for_a_clinician_while_flagged(
    as_user, patient, coordinator, clinician
):
    episode = flagged(patient, coordinator)
    resolve = move(as_user(clinician), episode, "resolve", {"note": "better"}, 3)
    assert resolve.status_code == 422
    assert rules_of(resolve) == [rules.RF]
    close = move(as_user(coordinator), episode, "close", {"reason": "transferred"}, 3)
    assert close.status_code == 403
    closed = move(as_user(clinician), episode, "close", {"reason": "transferred"}, 3)
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"


# -- the emergency waiver lapses with the emergency ---------------------------------------------


def test_plan_surgery_after_urg1_lapsed_is_422(as_user, patient, coordinator, clinician):
    episode = flagged(patient, coordinator)
    client = as_user(clinician)
    move(client, episode, "refer_to_specialist", {"urgency": "immediate"}, 2)
    study = {"performed_on": "2026-10-03", "nerve_root_compression": True}
    post(client, f"episodes/{episode.pk}/imaging/", {**study, "clinically_correlated": True}, 2)
    assert move(client, episode, "begin_surgical_review", {}, 2).status_code == 200
    flag = RedFlag.objects.get(episode=episode)
    patch(
        client,
        f"episodes/{episode.pk}/red-flags/{flag.pk}/",
        {"status": "ruled_out", "note": "MRI"},
        3,
    )
    body = {"procedure": "discectomy", "technique": "open"}
    response = move(client, episode, "plan_surgery", body, 3)
    assert response.status_code == 422
    assert {rules.CC_1, rules.SX_1, rules.SX_2} == set(rules_of(response))


# -- corrections recompute and leave a trace ----------------------------------------------------


def test_birth_date_correction_needs_a_reason_and_derives_rf3(as_user, team, coordinator):
    patient = PatientFactory(care_team=team, birth_date=date(1990, 1, 1))
    episode = new_episode(patient, coordinator, new_onset_pain=True)
    client = as_user(coordinator)
    path = f"patients/{patient.pk}/"
    refused = patch(client, path, {"birth_date": "1960-01-01"}, 4)
    assert refused.status_code == 400
    assert "reason" in refused.json()
    assert patch(client, path, {"birth_date": "1960-01-01", "reason": "typo"}, 4).status_code == 200
    with at_day(4):
        body = client.get(url(f"episodes/{episode.pk}/")).json()
        timeline = client.get(url(f"episodes/{episode.pk}/timeline/")).json()
    assert body["state"] == "urgent_escalation"
    assert [f["sign"] for f in body["red_flags"]] == ["age_over_50_new_onset"]
    correction = next(e for e in timeline if e["kind"] == "correction")
    assert correction["by"] == coordinator.username
    assert correction["data"] == {
        "field": "birth_date",
        "old": "1990-01-01",
        "new": "1960-01-01",
        "reason": "typo",
    }


def test_date_correction_needs_a_reason_and_a_current_version(as_user, patient, coordinator):
    episode = new_episode(patient, coordinator)
    client = as_user(coordinator)
    path = f"episodes/{episode.pk}/"
    without = patch(client, path, {"conservative_care_start": "2026-10-05"}, 10)
    assert without.status_code == 400
    assert "reason" in without.json()
    stale = patch(
        client,
        path,
        {"conservative_care_start": "2026-10-05", "reason": "x", "version": episode.version + 7},
        10,
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "conflict"
    body = {"conservative_care_start": "2026-10-05", "reason": "first PT visit"}
    done = patch(client, path, {**body, "version": episode.version}, 10)
    assert done.status_code == 200, done.content
    with at_day(10):
        timeline = client.get(url(f"episodes/{episode.pk}/timeline/")).json()
    correction = next(e for e in timeline if e["kind"] == "correction")
    assert correction["data"]["old"] == "2026-10-01"
    assert correction["data"]["new"] == "2026-10-05"


# -- stale facts --------------------------------------------------------------------------------


def test_imaging_before_onset_does_not_satisfy_sx1(as_user, patient, coordinator, clinician):
    episode = flagged(patient, coordinator)
    client = as_user(clinician)
    move(client, episode, "refer_to_specialist", {}, 2)  # immediate by default (RF-1)
    old = {"performed_on": "2026-08-01", "nerve_root_compression": True}
    post(client, f"episodes/{episode.pk}/imaging/", {**old, "clinically_correlated": True}, 2)
    response = move(client, episode, "begin_surgical_review", {}, 2)
    assert response.status_code == 422
    assert rules_of(response) == [rules.SX_1]


# -- a false alarm keeps the 6-week reminder ----------------------------------------------------


def test_the_six_week_reminder_comes_back_after_a_false_alarm(
    as_user, patient, coordinator, clinician
):
    episode = flagged(patient, coordinator, sign="fever", day=5)
    client = as_user(clinician)
    flag = RedFlag.objects.get(episode=episode)
    patch(
        client,
        f"episodes/{episode.pk}/red-flags/{flag.pk}/",
        {"status": "ruled_out", "note": "ok"},
        6,
    )
    assert move(client, episode, "clear_escalation", {"note": "afebrile"}, 6).status_code == 200
    with at_day(6):
        reminders = client.get(url(f"episodes/{episode.pk}/reminders/")).json()
    six_weeks = next(
        r for r in reminders if r["milestone"] == "6_weeks" and r["audience"] == "care_team"
    )
    assert (six_weeks["status"], six_weeks["status_reason"]) == ("scheduled", "")


# -- queues by each patient's local date --------------------------------------------------------


def test_overdue_queue_uses_each_patients_date(as_user, team, coordinator):
    tokyo = new_episode(PatientFactory(care_team=team, timezone="Asia/Tokyo"), coordinator)
    new_york = new_episode(PatientFactory(care_team=team), coordinator)
    for episode in (tokyo, new_york):
        with at_day(3):
            services.assessment_record(
                episode_id=episode.pk, by=coordinator, values={"neurological_deficit": True}
            )
    client = as_user(coordinator)
    # 00:30 on 2026-10-05 in Tokyo: the REF-3 deadline (10-04) has passed there, not in NY.
    with time_machine.travel(
        datetime.combine(ONSET.replace(day=5), time(0, 30), tzinfo=ZoneInfo("Asia/Tokyo")),
        tick=False,
    ):
        overdue = [e["id"] for e in client.get(url("queues/overdue/")).json()["results"]]
        counts = {q["name"]: q["count"] for q in client.get(url("queues/")).json()}
    assert overdue == [tokyo.pk]
    assert counts["overdue"] == 1
    assert Episode.objects.get(pk=new_york.pk).next_deadline == ONSET.replace(day=4)


# -- SX-5 ---------------------------------------------------------------------------------------


def test_fusion_for_a_recurrent_herniation_needs_its_qualifier(
    as_user, patient, coordinator, clinician
):
    episode = flagged(patient, coordinator)
    client = as_user(clinician)
    move(client, episode, "refer_to_specialist", {}, 2)
    study = {"performed_on": "2026-10-03", "nerve_root_compression": True}
    post(client, f"episodes/{episode.pk}/imaging/", {**study, "clinically_correlated": True}, 2)
    move(client, episode, "begin_surgical_review", {}, 2)
    alone = {"procedure": "fusion", "fusion_indication": "recurrent_herniation_reoperation"}
    refused = move(client, episode, "plan_surgery", alone, 2)
    assert refused.status_code == 422
    assert rules_of(refused) == [rules.SX_5]
    bad = move(client, episode, "plan_surgery", {**alone, "fusion_indication": ["nope"]}, 2)
    assert bad.status_code == 400
    assert "fusion_indication" in bad.json()
    both = {
        **alone,
        "fusion_indication": ["recurrent_herniation_reoperation", "chronic_axial_pain"],
    }
    done = move(client, episode, "plan_surgery", both, 2)
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "surgery"


# -- writes to a closed episode -----------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        ("post", "assessments/", {"radicular_pain": True}),
        ("post", "red-flags/", {"sign": "fever"}),
        ("post", "imaging/", {"performed_on": "2026-10-02"}),
        ("post", "care-plan/", {"item": "nsaid"}),
        ("patch", "", {"assigned_to": None}),
    ],
)
def test_a_write_to_a_closed_episode_is_409_episode_closed(as_user, patient, coordinator, write):
    method, path, body = write
    episode = new_episode(patient, coordinator)
    client = as_user(coordinator)
    move(client, episode, "close", {"reason": "withdrawn"}, 2)
    version = Episode.objects.get(pk=episode.pk).version
    with at_day(3):
        response = getattr(client, method)(
            url(f"episodes/{episode.pk}/{path}"), body, format="json"
        )
    assert response.status_code == 409, response.content
    assert response.json()["error"] == "episode_closed"
    assert Episode.objects.get(pk=episode.pk).version == version


# -- a fresh install has one care team ----------------------------------------------------------


def test_a_fresh_install_enrols_a_patient_with_a_superuser(as_user, superuser):
    """The migration's one care team: a superuser on a single-team install is never asked."""
    assert CareTeam.objects.count() == 1
    body = ANA
    response = as_user(superuser).post(url("patients/"), body, format="json")
    assert response.status_code == 201, response.content
    assert Patient.objects.get().care_team == CareTeam.objects.get()
    CareTeam.objects.create(name="Second team")
    again = as_user(superuser).post(url("patients/"), body, format="json")
    assert again.status_code == 400
    assert "care_team" in again.json()
