"""A red-flag report is never absorbed, and urgency comes first (PATHWAY.md), through the services.

Each test names the behaviour it proves, both ways; tests/api/test_red_flag_never_absorbed_api.py
shows the same over HTTP.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from careflow import rules
from episodes import services
from episodes.models import Episode, RedFlag, RedFlagReport, Referral
from episodes.selectors import episode_next_action, episode_pathway_view, queue_episodes
from notifications import services as notifications_services
from notifications.models import CheckIn, Reminder
from tests.clock import NY, ONSET, at_day, moment
from tests.factories import new_episode
from tests.notifications.helpers import run_cycle


def refresh(episode) -> Episode:
    return Episode.objects.get(pk=episode.pk)


def reminder(episode, milestone="2_weeks") -> Reminder:
    return Reminder.objects.get(episode=episode, milestone=milestone, audience="patient")


def check_in(episode, milestone="2_weeks", overall="worse", *, disabling=False, symptoms=()):
    return notifications_services.checkin_submit(
        reminder_id=reminder(episode, milestone).pk,
        overall=overall,
        disabling_pain=disabling,
        symptoms=list(symptoms),
    )


def urgent_ids(user) -> list[int]:
    return list(queue_episodes("urgent", user=user).values_list("id", flat=True))


def report_alerts(episode) -> list[Reminder]:
    return list(
        Reminder.objects.filter(
            episode=episode, audience="care_team", milestone__startswith="red_flag:report:"
        )
    )


@pytest.fixture
def referred(patient, coordinator):
    """Saddle numbness reported at the 2-week check-in, then the urgent referral made."""
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(14):
        check_in(episode, symptoms=["saddle_numbness"])
    with at_day(15):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "immediate"},
        )
    episode = refresh(episode)
    assert (episode.state, episode.urgent_since) == ("specialist_referral", None)
    return episode


# -- a symptom reported again while its flag is active ------------------------------------------


def test_a_symptom_reported_again_alerts_and_returns_to_the_urgent_queue(referred, coordinator):
    with at_day(42):
        check_in(referred, "6_weeks", symptoms=["saddle_numbness"])
    episode = refresh(referred)
    report = RedFlagReport.objects.get(episode=episode, raised_flag=False)
    assert (report.sign, report.category, report.red_flag.status) == (
        "saddle_anesthesia",
        rules.RF_1,
        "active",
    )
    assert RedFlag.objects.filter(episode=episode).count() == 1  # the same flag, not a new one
    assert [r.status for r in report_alerts(episode)] == ["scheduled"]
    assert episode.urgent_since is not None
    assert episode.urgent_rank == 2  # acted on (referred after the flag), RF-1
    assert episode.pk in urgent_ids(coordinator)
    with at_day(42):
        assert episode_next_action(episode) == {
            "action": "review_patient_report",
            "due": "2026-11-12",
            "rule": rules.RF_1,
        }


def test_without_the_report_the_referred_episode_stays_out_of_the_urgent_queue(
    referred, coordinator
):
    with at_day(42):
        check_in(referred, "6_weeks", symptoms=[])
    assert refresh(referred).urgent_since is None
    assert report_alerts(referred) == []
    assert referred.pk not in urgent_ids(coordinator)


def test_only_a_clinicians_assessment_after_the_report_reviews_it(referred, coordinator, clinician):
    with at_day(42):
        check_in(referred, "6_weeks", symptoms=["saddle_numbness"])
    with at_day(43):
        services.assessment_record(
            episode_id=referred.pk, by=coordinator, values={"radicular_pain": True}
        )
    assert refresh(referred).pk in urgent_ids(coordinator)
    with at_day(43):
        services.assessment_record(
            episode_id=referred.pk, by=clinician, values={"radicular_pain": True}
        )
    episode = refresh(referred)
    assert (episode.urgent_since, episode.report_review_since) == (None, None)
    report = RedFlagReport.objects.get(episode=episode, raised_flag=False)
    assert (report.reviewed_by, report.reviewed_at is not None) == (clinician, True)
    assert episode.pk not in urgent_ids(coordinator)


def test_the_same_check_in_sent_again_is_the_same_report(referred):
    with at_day(42):
        check_in(referred, "6_weeks", symptoms=["saddle_numbness"])
        check_in(referred, "6_weeks", "same", symptoms=["saddle_numbness"])  # a correction
        notifications_services.checkin_red_flags_report(
            reminder_id=reminder(referred, "6_weeks").pk, symptoms=["saddle_numbness"]
        )
    assert RedFlagReport.objects.filter(episode=referred, raised_flag=False).count() == 1
    assert len(report_alerts(referred)) == 1


def test_a_report_while_still_unacted_is_kept_for_review_too(patient, coordinator):
    episode = new_episode(patient, coordinator)
    with at_day(14):
        check_in(episode, symptoms=["fever"])
    with at_day(42):
        check_in(episode, "6_weeks", symptoms=["fever"])
    episode = refresh(episode)
    assert episode.state == "urgent_escalation"
    assert RedFlagReport.objects.filter(episode=episode, raised_flag=False).count() == 1
    # The urgent referral acts on the flag; the report still waits for a clinician.
    with at_day(43):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "immediate"},
        )
    assert refresh(episode).pk in urgent_ids(coordinator)


# -- a red-flag answer on a resolved or closed episode ------------------------------------------


@pytest.fixture
def closed(patient, coordinator):
    episode = new_episode(patient, coordinator)
    with at_day(10):
        services.episode_transition(
            episode_id=episode.pk, name="close", by=coordinator, data={"reason": "withdrawn"}
        )
    return refresh(episode)


def test_a_red_flag_on_a_closed_episode_is_recorded_and_alerts(closed, coordinator):
    with at_day(14):
        check_in(closed, symptoms=["bladder_or_bowel_problems"])
    episode = refresh(closed)
    assert episode.state == "closed"  # the care team decides whether to open a new episode
    assert CheckIn.objects.filter(episode=episode).exists()
    reports = RedFlagReport.objects.filter(episode=episode)
    assert sorted(r.sign for r in reports) == ["incontinence", "urinary_retention"]
    assert all(not r.raised_flag and r.red_flag is None for r in reports)
    assert not RedFlag.objects.filter(episode=episode).exists()
    alerts = report_alerts(episode)
    assert len(alerts) == 2
    assert all(notifications_services.reminder_why_not(a) == "" for a in alerts)
    assert episode.pk in urgent_ids(coordinator)
    assert episode.urgent_rank == 0  # nobody has acted on it; RF-1
    with at_day(14):
        view = episode_pathway_view(episode)
    assert [a["action"] for a in view["next_actions"]] == ["review_patient_report"]


def test_other_answers_on_a_closed_episode_change_nothing(closed, coordinator):
    with at_day(14):
        check_in(closed, overall="worse", disabling=True, symptoms=[])
    episode = refresh(closed)
    assert CheckIn.objects.filter(episode=episode).exists()
    assert (episode.urgent_since, episode.facts.get("disabling_pain")) == (None, None)
    assert report_alerts(episode) == []


def test_a_clinician_reviews_a_closed_episodes_report_with_a_note(closed, coordinator, clinician):
    with at_day(14):
        check_in(closed, symptoms=["saddle_numbness"])
    report = RedFlagReport.objects.get(episode=closed)
    with pytest.raises(services.NotPermittedError):
        services.red_flag_report_review(
            episode_id=closed.pk, report_id=report.pk, by=coordinator, note="called"
        )
    with pytest.raises(services.NotPermittedError):
        services.red_flag_report_review(
            episode_id=closed.pk, report_id=report.pk, by=None, note="called"
        )
    assert refresh(closed).pk in urgent_ids(coordinator)
    services.red_flag_report_review(
        episode_id=closed.pk, report_id=report.pk, by=clinician, note="new episode opened"
    )
    assert refresh(closed).urgent_since is None
    assert closed.pk not in urgent_ids(coordinator)


# -- CC-1: only a clinician's assessment from day 42 is the reassessment ------------------------


def test_a_patients_disabling_answer_is_not_the_six_week_reassessment(
    patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(43):
        check_in(episode, "6_weeks", disabling=True)
        assert refresh(episode).reassessment_due_on == ONSET + timedelta(days=42)
        assert "reassess" in [
            a["action"] for a in episode_pathway_view(refresh(episode))["next_actions"]
        ]
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"conservative_therapy_failed": True}
        )
        assert refresh(episode).reassessment_due_on is not None  # a coordinator's entry
        services.assessment_record(
            episode_id=episode.pk, by=clinician, values={"conservative_therapy_failed": True}
        )
    assert refresh(episode).reassessment_due_on is None  # CC-1 met
    assert refresh(episode).facts["disabling_pain"] is True  # the answer updated the facts


def test_a_clinicians_assessment_before_day_42_is_not_the_reassessment(
    patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator)
    with at_day(41):
        services.assessment_record(episode_id=episode.pk, by=clinician, values={})
    assert refresh(episode).reassessment_due_on == ONSET + timedelta(days=42)


# -- a later answer withdraws "resolved" -------------------------------------------------------


def test_resolved_then_worse_withdraws_the_request_to_confirm(patient, coordinator):
    episode = new_episode(patient, coordinator)
    with at_day(14):
        check_in(episode, "2_weeks", "resolved")
        assert "confirm_resolution" in [
            a["action"] for a in episode_pathway_view(refresh(episode))["next_actions"]
        ]
    with at_day(42):
        check_in(episode, "6_weeks", "worse")
        actions = [a["action"] for a in episode_pathway_view(refresh(episode))["next_actions"]]
    assert "confirm_resolution" not in actions
    assert refresh(episode).resolution_reported_on is None


# -- clear_escalation after a referral returns to specialist care -------------------------------


def test_clear_escalation_after_a_referral_returns_to_specialist_referral(
    patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator)
    with at_day(5):
        services.episode_transition(
            episode_id=episode.pk, name="refer_to_specialist", by=coordinator, data={}
        )
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="no fever on exam"
        )
        services.episode_transition(
            episode_id=episode.pk, name="clear_escalation", by=clinician, data={"note": "ok"}
        )
    episode = refresh(episode)
    assert episode.state == "specialist_referral"
    assert episode.next_deadline_rule != rules.REF_1  # no REF-1 clock after the referral


def test_clear_escalation_without_a_referral_returns_to_conservative_care(
    patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator)
    with at_day(5):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="no fever on exam"
        )
        services.episode_transition(
            episode_id=episode.pk, name="clear_escalation", by=clinician, data={"note": "ok"}
        )
    assert refresh(episode).state == "conservative_care"


# -- a flag raised after a same-day referral: moments, not dates --------------------------------


def at(day: int, hour: int):
    moment = datetime.combine(ONSET + timedelta(days=day), datetime.min.time(), tzinfo=NY)
    return time_machine.travel(moment + timedelta(hours=hour), tick=False)


def test_a_flag_after_a_same_day_referral_takes_its_own_deadline(patient, coordinator):
    episode = new_episode(patient, coordinator)
    with at(3, 9):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
    with at(3, 11):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "immediate"},
        )
    with at(6, 15):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    episode = refresh(episode)
    # RF-4's deadline, due the day it was raised, not RF-1's (met by the referral, days ago).
    assert (episode.state, episode.next_deadline, episode.next_deadline_rule) == (
        "urgent_escalation",
        date(2026, 10, 7),
        rules.RF_4,
    )
    with at(6, 16):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=coordinator,
            data={"urgency": "immediate"},
        )
    follow_up = Referral.objects.filter(episode=episode).order_by("created_at").last()
    assert (follow_up.due_rule, follow_up.due_date_met) == (rules.RF_4, True)


def test_a_flag_raised_the_afternoon_after_a_morning_referral_is_due_that_day(patient, coordinator):
    episode = new_episode(patient, coordinator)
    with at(3, 9):
        services.episode_transition(
            episode_id=episode.pk, name="refer_to_specialist", by=coordinator, data={}
        )
    with at(3, 15):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    # Raised in the afternoon after a morning referral: after it, a deadline of its own.
    assert refresh(episode).next_deadline_rule == rules.RF_4


# -- the report's alert reaches the care team ---------------------------------------------------


def test_a_reports_alert_is_emailed_to_the_care_team_even_on_an_ended_episode(referred, closed):
    with at_day(14):
        check_in(closed, symptoms=["fever"])
    run_cycle(moment(14))
    with at_day(42):
        check_in(referred, "6_weeks", symptoms=["saddle_numbness"])
    run_cycle(moment(42))
    alerts = [m for m in mail.outbox if "red-flag symptom reported" in m.subject]
    assert {m.subject for m in alerts} == {
        f"URGENT: red-flag symptom reported on episode #{closed.pk} (RF-4)",
        f"URGENT: red-flag symptom reported on episode #{referred.pk} (RF-1)",
    }
    ended = next(m for m in alerts if f"#{closed.pk}" in m.subject)
    assert "after the episode ended" in ended.body
    assert "Decide whether to open a new episode" in ended.body
    assert closed.patient.given_name not in ended.body  # the episode by id, never the patient
    assert {r.status for r in report_alerts(referred) + report_alerts(closed)} == {"sent"}
