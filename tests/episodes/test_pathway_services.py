"""The pathway through the services: every transition's rule both ways, on the database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from careflow import rules
from episodes import services
from episodes.models import AppendOnlyError, Episode, RedFlag, Referral, TransitionLog
from notifications.models import Reminder
from tests.clock import ONSET, at_day
from tests.episodes.helpers import refresh, transition
from tests.factories import new_episode


@pytest.fixture
def ready(episode):
    """An episode whose facts satisfy IM-1 and ESI-3: only the day count may block."""
    return episode


def test_create_schedules_reminders_and_starts_in_conservative_care(patient, coordinator):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    assert episode.state == "conservative_care"
    assert episode.enrolled_on == ONSET
    assert Reminder.objects.filter(episode=episode).count() == 6
    assert episode.next_deadline == date(2026, 11, 12)  # 6-week reassessment (CC-1)
    assert episode.next_deadline_rule == rules.CC_1
    assert episode.facts == {"radicular_pain": True}


def test_create_refuses_future_onset_and_care_start_before_onset(patient, coordinator):
    with at_day(0), pytest.raises(ValidationError) as exc:
        services.episode_create(
            patient=patient, by=coordinator, symptom_onset=ONSET + timedelta(days=1)
        )
    assert "symptom_onset" in exc.value.message_dict
    with at_day(5), pytest.raises(ValidationError) as exc:
        services.episode_create(
            patient=patient,
            by=coordinator,
            symptom_onset=ONSET,
            conservative_care_start=ONSET - timedelta(days=1),
        )
    assert "conservative_care_start" in exc.value.message_dict
    assert not Episode.objects.exists()


def test_cc1_imaging_refused_on_day_41_and_changes_nothing(ready, coordinator):
    before = refresh(ready)
    with at_day(41), pytest.raises(services.GuardFailedError) as exc:
        transition(ready, "confirm_imaging_eligibility", coordinator)
    assert {r.rule for r in exc.value.reasons} == {rules.CC_1, rules.IM_2}
    assert "eligible on 2026-11-12" in str(exc.value)
    after = refresh(ready)
    assert (after.state, after.version) == (before.state, before.version)
    assert not TransitionLog.objects.filter(episode=ready).exists()


def test_cc1_imaging_allowed_on_day_42_with_a_log_row_and_snapshot(ready, coordinator):
    with at_day(42):
        episode = transition(ready, "confirm_imaging_eligibility", coordinator)
    assert episode.state == "imaging_eligible"
    log = TransitionLog.objects.get(episode=ready)
    assert (log.from_state, log.to_state, log.by) == (
        "conservative_care",
        "imaging_eligible",
        coordinator,
    )
    assert log.facts_snapshot["conservative_therapy_failed"] is True
    assert log.evaluated_on == ONSET + timedelta(days=42)
    assert log.pathway_version == rules.PATHWAY_VERSION
    with pytest.raises(AppendOnlyError):
        log.save()
    with pytest.raises(AppendOnlyError):
        log.delete()


@pytest.mark.parametrize(("guidance", "allowed"), [("blind", False), ("fluoroscopic", True)])
def test_esi2_blind_injection_refused(ready, coordinator, guidance, allowed):
    with at_day(42):
        transition(ready, "confirm_imaging_eligibility", coordinator)
    body = {"guidance": guidance, "approach": "interlaminar", "patient_consented": True}
    with at_day(43):
        if allowed:
            assert transition(ready, "schedule_esi", coordinator, **body).state == "esi"
            assert ready.esi_plans.get().guidance == "fluoroscopic"
        else:
            with pytest.raises(services.GuardFailedError) as exc:
                transition(ready, "schedule_esi", coordinator, **body)
            assert {r.rule for r in exc.value.reasons} == {rules.ESI_2}
            assert not ready.esi_plans.exists()


def test_urg1_cauda_equina_on_day_5_reaches_surgical_review(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(5):
        flag = services.red_flag_raise(
            episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator
        )
        assert flag.category == rules.RF_1
        episode = refresh(episode)
        assert episode.state == "urgent_escalation"
        assert episode.urgent_since is not None
        assert episode.next_deadline == ONSET + timedelta(days=5)  # referral due at once
        assert Reminder.objects.filter(episode=episode, milestone=f"red_flag:{flag.pk}").exists()
        transition(episode, "refer_to_specialist", coordinator, urgency="immediate", reason="CES")
        episode = refresh(episode)
        assert (episode.state, episode.urgent_since) == ("specialist_referral", None)
        referral = Referral.objects.get(episode=episode)
        assert referral.due_date_met
        assert referral.due_rule == rules.RF_1
        services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=ONSET + timedelta(days=5),
            nerve_root_compression=True,
            clinically_correlated=True,
            level="L4-L5",
        )
        with pytest.raises(services.NotPermittedError):
            transition(episode, "begin_surgical_review", coordinator)
        episode = transition(episode, "begin_surgical_review", clinician)
    assert episode.state == "surgical_review"


def test_surgical_review_without_red_flag_on_day_5_is_refused(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(5):
        transition(episode, "refer_to_specialist", coordinator, urgency="routine")
        services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=ONSET + timedelta(days=5),
            nerve_root_compression=True,
            clinically_correlated=True,
        )
        with pytest.raises(services.GuardFailedError) as exc:
            transition(episode, "begin_surgical_review", clinician)
    assert {r.rule for r in exc.value.reasons} == {rules.CC_1, rules.SX_1, rules.SX_2}


@pytest.fixture
def in_surgical_review(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="incontinence", by=coordinator)
        transition(episode, "refer_to_specialist", coordinator, urgency="immediate")
        services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=ONSET + timedelta(days=5),
            nerve_root_compression=True,
            clinically_correlated=True,
        )
        transition(episode, "begin_surgical_review", clinician)
    return refresh(episode)


def test_sx5_fusion_refused_without_indication_allowed_with_instability(
    in_surgical_review, clinician
):
    with at_day(6), pytest.raises(services.GuardFailedError) as exc:
        transition(in_surgical_review, "plan_surgery", clinician, procedure="fusion")
    assert [r.rule for r in exc.value.reasons] == [rules.SX_5]
    assert not in_surgical_review.surgery_plans.exists()
    with at_day(6):
        episode = transition(
            in_surgical_review,
            "plan_surgery",
            clinician,
            procedure="fusion",
            fusion_indication="instability",
        )
    assert episode.state == "surgery"
    assert episode.surgery_plans.get().fusion_indication == "instability"


def test_plan_surgery_is_clinician_only(in_surgical_review, coordinator):
    with at_day(6), pytest.raises(services.NotPermittedError):
        transition(
            in_surgical_review,
            "plan_surgery",
            coordinator,
            procedure="discectomy",
            technique="open",
        )


@pytest.mark.parametrize(
    ("birth_date", "escalated"),
    [
        (date(1975, 9, 30), True),  # 51 at onset (2026-10-01)
        (date(1975, 10, 2), True),  # 50 years and 364 days: older than 50 (RF-3)
        (date(1976, 9, 30), True),  # 50 years and a day
        (date(1976, 10, 1), False),  # the 50th birthday itself
    ],
)
def test_rf3_over_50_with_new_onset_pain_escalates_on_creation(
    team, coordinator, birth_date, escalated
):
    from tests.factories import PatientFactory  # noqa: PLC0415

    patient = PatientFactory(care_team=team, birth_date=birth_date)
    episode = new_episode(patient, coordinator, new_onset_pain=True)
    assert (episode.state == "urgent_escalation") is escalated
    flags = RedFlag.objects.filter(episode=episode)
    if escalated:
        flag = flags.get()
        assert (flag.sign, flag.category, flag.source, flag.raised_by) == (
            "age_over_50_new_onset",
            rules.RF_3,
            "system",
            None,
        )
        log = TransitionLog.objects.get(episode=episode)
        assert (log.transition, log.source) == ("escalate", "system")
    else:
        assert not flags.exists()


def test_rf3_derived_when_facts_change(patient, coordinator):
    from tests.factories import PatientFactory  # noqa: PLC0415

    older = PatientFactory(care_team=patient.care_team, birth_date=date(1960, 1, 1))
    episode = new_episode(older, coordinator)
    assert episode.state == "conservative_care"
    with at_day(3):
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"new_onset_pain": True}
        )
    assert refresh(episode).state == "urgent_escalation"


def test_user_cannot_type_a_derived_sign(ready, coordinator):
    with at_day(1), pytest.raises(ValidationError):
        services.red_flag_raise(episode_id=ready.pk, sign="age_over_50_new_onset", by=coordinator)


def test_clear_escalation_needs_flags_ruled_out_and_a_clinician(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator)
    with at_day(2):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        with pytest.raises(services.GuardFailedError) as exc:
            transition(episode, "clear_escalation", clinician)
        assert exc.value.reasons[0].rule == rules.RF
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="examined"
        )
        with pytest.raises(services.NotPermittedError):
            transition(episode, "clear_escalation", coordinator)
        episode = transition(episode, "clear_escalation", clinician, note="afebrile")
    assert (episode.state, episode.urgent_since) == ("conservative_care", None)


def test_flag_in_surgery_keeps_state_but_heads_urgent_until_next_transition(
    in_surgical_review, coordinator, clinician
):
    with at_day(7):
        transition(
            in_surgical_review, "plan_surgery", clinician, procedure="discectomy", technique="open"
        )
        services.red_flag_raise(
            episode_id=in_surgical_review.pk, sign="progressive_motor_deficit", by=coordinator
        )
        episode = refresh(in_surgical_review)
        assert (episode.state, episode.urgent_since is not None) == ("surgery", True)
        episode = transition(episode, "declare_refractory", clinician, note="FBSS")
    assert (episode.state, episode.urgent_since) == ("refractory", None)


def test_invalid_transition_and_stale_version_are_distinct(ready, coordinator):
    with at_day(1):
        with pytest.raises(services.InvalidTransitionError):
            transition(ready, "schedule_esi", coordinator)
        with pytest.raises(services.StaleVersionError):
            services.episode_transition(
                episode_id=ready.pk, name="resolve", by=coordinator, version=ready.version - 1
            )
        with pytest.raises(services.UnknownTransitionError):
            transition(ready, "teleport", coordinator)
        episode = services.episode_transition(
            episode_id=ready.pk, name="resolve", by=coordinator, version=ready.version
        )
    assert episode.state == "resolved"


def test_terminal_states_have_no_way_out_and_cancel_reminders(ready, coordinator):
    with at_day(1):
        transition(ready, "close", coordinator, reason="transferred")
        for name in ("resolve", "close", "escalate", "refer_to_specialist"):
            with pytest.raises(services.InvalidTransitionError):
                transition(ready, name, coordinator, reason="other")
    statuses = set(Reminder.objects.filter(episode=ready).values_list("status", flat=True))
    assert statuses == {"cancelled"}
    assert ready.closure.reason == "transferred"


def test_close_needs_a_reason(ready, coordinator):
    with at_day(1), pytest.raises(ValidationError) as exc:
        transition(ready, "close", coordinator, reason="bored")
    assert "reason" in exc.value.message_dict
    assert refresh(ready).state == "conservative_care"


def test_ref2_ref3_deadlines_set_when_recorded(ready, coordinator):
    with at_day(10):
        services.assessment_record(
            episode_id=ready.pk, by=coordinator, values={"disabling_pain": True}
        )
    episode = refresh(ready)
    assert (episode.next_deadline, episode.next_deadline_rule) == (
        ONSET + timedelta(days=24),
        rules.REF_2,
    )
    with at_day(12):
        services.assessment_record(
            episode_id=ready.pk, by=coordinator, values={"neurological_deficit": True}
        )
    episode = refresh(ready)
    assert (episode.next_deadline, episode.next_deadline_rule) == (
        ONSET + timedelta(days=12),
        rules.REF_3,
    )


def test_referral_made_late_records_the_missed_deadline(ready, coordinator):
    with at_day(10):
        services.assessment_record(
            episode_id=ready.pk, by=coordinator, values={"neurological_deficit": True}
        )
    with at_day(15):
        transition(ready, "refer_to_specialist", coordinator, urgency="immediate")
    referral = Referral.objects.get(episode=ready)
    assert (referral.due_rule, referral.due_on, referral.due_date_met) == (
        rules.REF_3,
        ONSET + timedelta(days=10),
        False,
    )


def test_correcting_onset_reschedules_unsent_reminders(ready, coordinator):
    two_weeks = Reminder.objects.get(episode=ready, milestone="2_weeks", audience="patient")
    with at_day(3):
        services.episode_update(
            episode_id=ready.pk,
            by=coordinator,
            fields={"symptom_onset": ONSET - timedelta(days=3)},
            reason="the patient remembered an earlier start",
        )
    two_weeks.refresh_from_db()
    assert two_weeks.milestone_date == date(2026, 10, 12)
    assert two_weeks.status == "scheduled"


def test_esi1_counts_from_a_corrected_care_start(ready, coordinator):
    """ESI-1 is never waived: a care start corrected later re-closes the 42-day gate."""
    with at_day(42):
        transition(ready, "confirm_imaging_eligibility", coordinator)
        services.episode_update(
            episode_id=ready.pk,
            by=coordinator,
            fields={"conservative_care_start": ONSET + timedelta(days=10)},
            reason="therapy began at the second visit",
        )
        body = {"guidance": "fluoroscopic", "approach": "interlaminar", "patient_consented": True}
        with pytest.raises(services.GuardFailedError) as exc:
            transition(ready, "schedule_esi", coordinator, **body)
    assert [r.rule for r in exc.value.reasons] == [rules.ESI_1]
    assert exc.value.reasons[0].opens_on == ONSET + timedelta(days=52)
