"""A red-flag report is never absorbed, and urgency comes first, over HTTP (PATHWAY.md, API.md).

The API and the patient's check-in page, as a client and a patient use them; the
service-level proofs are in tests/episodes/test_red_flag_never_absorbed.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from django.test import Client

from careflow import rules
from episodes import services
from episodes.models import RedFlagReport
from notifications.checkins.tokens import checkin_token_for
from notifications.models import Reminder
from tests.clients import url
from tests.clock import NY, ONSET, at_day
from tests.factories import PatientFactory, new_episode


def post(client, path, body, day):
    with at_day(day):
        return client.post(url(path), body, format="json")


def get(client, path, day):
    with at_day(day):
        return client.get(url(path))


def move(client, episode, name, body, day):
    return post(client, f"episodes/{episode.pk}/transitions/{name}/", body, day)


def answer(browser, episode, milestone, day, **form):
    """The patient answers the check-in page of one of their reminders."""
    reminder = Reminder.objects.get(episode=episode, milestone=milestone, audience="patient")
    with at_day(day):
        token = checkin_token_for(reminder)
        return browser.post(f"/check-in/{token}/", {"disabling": "no", **form})


def urgent(client, day):
    return get(client, "queues/urgent/?page_size=100", day).json()["results"]


# -- a symptom reported again after the urgent referral -----------------------------------------


def test_saddle_numbness_again_after_the_referral_is_urgent_until_a_clinician_reviews(
    as_user, client, patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    answer(client, episode, "2_weeks", 14, overall="worse", symptoms=["saddle_numbness"])
    api = as_user(coordinator)
    assert (
        move(api, episode, "refer_to_specialist", {"urgency": "immediate"}, 15).status_code == 200
    )
    assert [row["id"] for row in urgent(api, 16)] == []

    page = answer(client, episode, "6_weeks", 42, overall="same", symptoms=["saddle_numbness"])
    assert page.status_code == 200
    assert "seek urgent care now" in page.content.decode()
    rows = urgent(api, 42)
    assert [row["id"] for row in rows] == [episode.pk]
    assert rows[0]["next_action"]["action"] == "review_patient_report"
    body = get(api, f"episodes/{episode.pk}/", 42).json()
    assert [(r["sign"], r["category"]) for r in body["red_flag_reports"]] == [
        ("saddle_anesthesia", rules.RF_1)
    ]
    alerts = Reminder.objects.filter(episode=episode, milestone__startswith="red_flag:report:")
    assert alerts.count() == 1
    kinds = [e["kind"] for e in get(api, f"episodes/{episode.pk}/timeline/", 42).json()]
    assert "red_flag_reported" in kinds

    # A coordinator's entry is not a clinician's review; a clinician's assessment is.
    post(api, f"episodes/{episode.pk}/assessments/", {"note": "called the patient"}, 43)
    assert [row["id"] for row in urgent(api, 43)] == [episode.pk]
    done = post(as_user(clinician), f"episodes/{episode.pk}/assessments/", {"note": "seen"}, 43)
    assert done.status_code == 201
    assert urgent(api, 43) == []
    assert get(api, f"episodes/{episode.pk}/", 43).json()["red_flag_reports"] == []


# -- a red-flag answer on a closed episode -------------------------------------------------------


def test_a_closed_episodes_check_in_takes_a_red_flag_and_a_clinician_reviews_it(
    as_user, patient, coordinator, clinician, other_clinician
):
    client = Client()  # the patient's phone
    episode = new_episode(patient, coordinator)
    api = as_user(coordinator)
    move(api, episode, "close", {"reason": "lost_to_follow_up"}, 10)
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    with at_day(14):
        form = client.get(f"/check-in/{checkin_token_for(reminder)}/")
    assert form.status_code == 200
    assert "has ended" in form.content.decode()

    page = answer(client, episode, "2_weeks", 14, overall="worse", symptoms=["saddle_numbness"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your care team has been alerted" in text
    assert "Seek urgent care now" in text  # the safety-net advice
    assert [row["id"] for row in urgent(api, 14)] == [episode.pk]
    report = RedFlagReport.objects.get(episode=episode)
    path = f"episodes/{episode.pk}/red-flag-reports/{report.pk}/review/"
    assert post(api, path, {"note": "called"}, 15).status_code == 403
    assert post(as_user(other_clinician), path, {"note": "x"}, 15).status_code == 404
    assert post(as_user(clinician), path, {}, 15).status_code == 400
    assert [row["id"] for row in urgent(api, 15)] == [episode.pk]
    reviewed = post(as_user(clinician), path, {"note": "new episode opened"}, 15)
    assert reviewed.status_code == 200, reviewed.content
    assert reviewed.json()["reviewed_by"] == clinician.pk
    assert urgent(api, 15) == []
    assert post(as_user(clinician), path, {"note": "again"}, 15).status_code == 400


# -- CC-1: the patient's answer is not the reassessment ----------------------------------------


def test_a_disabling_answer_keeps_the_reassessment_due(as_user, client, patient, coordinator):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    answer(client, episode, "6_weeks", 43, overall="worse", disabling="yes")
    api = as_user(coordinator)
    due = get(api, "queues/reassessment_due/", 43).json()["results"]
    assert [row["id"] for row in due] == [episode.pk]
    actions = [a["action"] for a in get(api, f"episodes/{episode.pk}/", 43).json()["next_actions"]]
    assert "reassess" in actions


# -- resolved, then worse -----------------------------------------------------------------------


def test_worse_after_resolved_withdraws_confirm_resolution(as_user, client, patient, coordinator):
    episode = new_episode(patient, coordinator)
    answer(client, episode, "2_weeks", 14, overall="resolved")
    api = as_user(coordinator)
    actions = lambda day: [  # noqa: E731
        a["action"] for a in get(api, f"episodes/{episode.pk}/", day).json()["next_actions"]
    ]
    assert "confirm_resolution" in actions(14)
    answer(client, episode, "6_weeks", 42, overall="worse")
    assert "confirm_resolution" not in actions(42)


# -- the urgent queue's order, next actions, raised_at ------------------------------------------


def at(day: int, hour: int):
    moment = datetime.combine(ONSET + timedelta(days=day), datetime.min.time(), tzinfo=NY)
    return time_machine.travel(moment + timedelta(hours=hour), tick=False)


def test_the_urgent_queue_puts_todays_cauda_equina_first(as_user, team, coordinator):
    def flagged(sign, day, *, refer=False):
        episode = new_episode(PatientFactory(care_team=team), coordinator)
        with at(day, 9):
            services.red_flag_raise(episode_id=episode.pk, sign=sign, by=coordinator)
        if refer:
            with at(day, 10):
                services.episode_transition(
                    episode_id=episode.pk,
                    name="refer_to_specialist",
                    by=coordinator,
                    data={"urgency": "immediate"},
                )
            with at(day, 11):
                services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
                services.episode_transition(
                    episode_id=episode.pk,
                    name="refer_to_specialist",
                    by=coordinator,
                    data={"urgency": "immediate"},
                )
        return episode

    old_fracture = flagged("osteoporosis", 1)  # RF-5, waiting longest, not acted on
    old_fever = flagged("fever", 2)  # RF-4, not acted on
    cauda_today = flagged("saddle_anesthesia", 20)  # RF-1, today
    weakness = flagged("progressive_motor_deficit", 10)  # RF-2, not acted on
    rows = urgent(as_user(coordinator), 20)
    assert [row["id"] for row in rows] == [
        weakness.pk,  # RF-1 / RF-2 first, the longest waiting first among them
        cauda_today.pk,
        old_fracture.pk,  # then RF-3/4/5, longest waiting first
        old_fever.pk,
    ]
    first = rows[1]["red_flags"][0]
    assert (first["sign"], first["category"]) == ("saddle_anesthesia", rules.RF_1)
    assert first["raised_at"].startswith("2026-10-21T13:00:00")  # 09:00 New York, in UTC
    # Every urgent row's next action is urgent, never the older CC-2 education.
    assert {row["next_action"]["action"] for row in rows} == {"urgent_imaging"}


def test_acted_on_episodes_come_after_those_not_yet_acted_on(as_user, client, team, coordinator):
    referred = new_episode(PatientFactory(care_team=team), coordinator)
    answer(client, referred, "2_weeks", 14, overall="worse", symptoms=["saddle_numbness"])
    api = as_user(coordinator)
    move(api, referred, "refer_to_specialist", {"urgency": "immediate"}, 15)
    answer(client, referred, "6_weeks", 42, overall="worse", symptoms=["saddle_numbness"])
    fever = new_episode(PatientFactory(care_team=team), coordinator)
    with at_day(42):
        services.red_flag_raise(episode_id=fever.pk, sign="fever", by=coordinator)
    # The RF-1 patient waits on specialist care; the newer RF-4 has not been acted on.
    assert [row["id"] for row in urgent(api, 42)] == [fever.pk, referred.pk]


def test_pages_of_the_urgent_queue_keep_its_order(as_user, team, coordinator):
    signs = ["fever", "saddle_anesthesia", "osteoporosis", "incontinence", "iv_drug_use"] * 3
    for day, sign in enumerate(signs, start=1):
        episode = new_episode(PatientFactory(care_team=team), coordinator)
        with at(day, 9):
            services.red_flag_raise(episode_id=episode.pk, sign=sign, by=coordinator)
    api = as_user(coordinator)
    whole = [row["id"] for row in urgent(api, 20)]
    pages, path = [], url("queues/urgent/?page_size=4")
    with at_day(20):
        while path:
            body = api.get(path).json()
            pages.extend(row["id"] for row in body["results"])
            path = body["next"]
    assert pages == whole
    assert len(whole) == len(signs)


# -- clear_escalation, RF-3 and SX-5 over HTTP --------------------------------------------------


def test_clear_escalation_after_a_referral_is_specialist_referral(
    as_user, patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator)
    api = as_user(clinician)
    move(api, episode, "refer_to_specialist", {"urgency": "routine"}, 5)
    flag = post(api, f"episodes/{episode.pk}/red-flags/", {"sign": "fever"}, 6).json()
    with at_day(6):
        offered = api.get(url(f"episodes/{episode.pk}/")).json()["available_transitions"]
    clear = next(t for t in offered if t["name"] == "clear_escalation")
    assert clear["target"] == "specialist_referral"
    with at_day(6):
        api.patch(
            url(f"episodes/{episode.pk}/red-flags/{flag['id']}/"),
            {"status": "ruled_out", "note": "afebrile"},
            format="json",
        )
    cleared = move(api, episode, "clear_escalation", {"note": "ruled out"}, 6)
    assert cleared.status_code == 200
    assert cleared.json()["state"] == "specialist_referral"
    assert all(d["rule"] != rules.REF_1 for d in cleared.json()["deadlines"])


def test_rf3_at_fifty_and_a_half_escalates_at_enrolment(as_user, team, coordinator):
    api = as_user(coordinator)
    patient = PatientFactory(care_team=team, birth_date=ONSET.replace(year=1976, month=4))
    body = {"patient": patient.pk, "symptom_onset": ONSET.isoformat(), "new_onset_pain": True}
    created = post(api, "episodes/", body, 0)
    assert created.status_code == 201, created.content
    assert created.json()["state"] == "urgent_escalation"
    assert [f["sign"] for f in created.json()["red_flags"]] == ["age_over_50_new_onset"]
    younger = PatientFactory(care_team=team, birth_date=ONSET.replace(year=1976, day=2))
    body["patient"] = younger.pk  # 49 years and 364 days at onset
    assert post(api, "episodes/", body, 0).json()["state"] == "conservative_care"


def test_sx5_a_reoperation_code_never_cancels_manual_labour(
    as_user, patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    api = as_user(clinician)
    post(api, f"episodes/{episode.pk}/red-flags/", {"sign": "incontinence"}, 5)
    move(api, episode, "refer_to_specialist", {"urgency": "immediate"}, 5)
    study = {"performed_on": "2026-10-06", "nerve_root_compression": True}
    post(api, f"episodes/{episode.pk}/imaging/", {**study, "clinically_correlated": True}, 5)
    assert move(api, episode, "begin_surgical_review", {}, 5).status_code == 200
    alone = {"procedure": "fusion", "fusion_indication": ["recurrent_herniation_reoperation"]}
    refused = move(api, episode, "plan_surgery", alone, 6)
    assert (refused.status_code, refused.json()["reasons"][0]["rule"]) == (422, rules.SX_5)
    both = {
        "procedure": "fusion",
        "fusion_indication": ["recurrent_herniation_reoperation", "manual_laborer"],
    }
    planned = move(api, episode, "plan_surgery", both, 6)
    assert planned.status_code == 200, planned.content
    assert planned.json()["state"] == "surgery"


def test_fhir_tasks_put_the_urgent_actions_first(as_user, patient, coordinator):
    episode = new_episode(patient, coordinator)  # CC-2 education due at enrolment
    with at_day(20):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
        response = as_user(coordinator).get(
            f"/fhir/EpisodeOfCare/{episode.pk}/$everything",
            HTTP_ACCEPT="application/fhir+json",
        )
    tasks = [
        e["resource"] for e in response.json()["entry"] if e["resource"]["resourceType"] == "Task"
    ]
    assert [(t["code"]["coding"][0]["code"], t["priority"]) for t in tasks] == [
        ("urgent_imaging", "stat"),
        ("refer_to_specialist", "stat"),
        ("educate_patient", "urgent"),  # overdue since enrolment, but routine
    ]
