"""Urgency is never lowered silently: the pathway as facts change over days.

Each test names the PATHWAY.md rule it proves, both ways.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from careflow import rules
from episodes import services
from episodes.models import Correction, Episode, RedFlag, Referral, SurgeryPlan
from episodes.selectors import episode_pathway_view, episode_timeline
from notifications.models import Reminder
from tests.clock import ONSET, at_day
from tests.episodes.helpers import refresh, transition
from tests.factories import PatientFactory, new_episode


def raise_flag(episode, sign, by, day):
    with at_day(day):
        return services.red_flag_raise(episode_id=episode.pk, sign=sign, by=by)


def rule_out(episode, flag, by, day, note="examined: no deficit"):
    with at_day(day):
        return services.red_flag_rule_out(flag_id=flag.pk, episode_id=episode.pk, by=by, note=note)


def assess(episode, by, day, **values):
    with at_day(day):
        return services.assessment_record(episode_id=episode.pk, by=by, values=values)


def mri(episode, by, day, *, performed_on=None, compression=True, correlated=True):
    with at_day(day):
        return services.imaging_record(
            episode_id=episode.pk,
            by=by,
            performed_on=performed_on or ONSET + timedelta(days=day),
            nerve_root_compression=compression,
            clinically_correlated=correlated,
        )


def reasons_of(exc) -> list[str]:
    return [r.rule for r in exc.value.reasons]


def review_refusal(episode, clinician, day) -> list[str]:
    """The rules refusing ``begin_surgical_review`` (empty when the review opened)."""
    with at_day(day):
        try:
            transition(episode, "begin_surgical_review", clinician)
        except services.GuardFailedError as exc:
            return [r.rule for r in exc.reasons]
    assert refresh(episode).state == "surgical_review"
    return []


def refer(episode, by, day, **body):
    with at_day(day):
        return transition(episode, "refer_to_specialist", by, **body)


def surgical_review(patient, coordinator, clinician):
    """Surgical review opened under URG-1: RF-1 active, immediate referral, correlated MRI."""
    episode = new_episode(patient, coordinator)
    raise_flag(episode, "saddle_anesthesia", coordinator, 2)
    refer(episode, coordinator, 2, urgency="immediate")
    mri(episode, clinician, 2)
    with at_day(2):
        transition(episode, "begin_surgical_review", clinician)
    return episode


# -- URG-1 waives persistent radicular symptoms, never compression or SX-3 ------------------


def test_cauda_equina_opens_surgical_review_without_radicular_pain(patient, coordinator, clinician):
    """URG-1: no leg pain recorded, an active RF-1 flag, correlated compression: allowed."""
    after = refresh(surgical_review(patient, coordinator, clinician))
    assert after.state == "surgical_review"
    assert after.surgical_review_urgent is True


def test_urg1_never_waives_compression_or_correlation(patient, coordinator, clinician):
    """URG-1 refused: without correlated compression on imaging (SX-1, SX-3)."""
    episode = new_episode(patient, coordinator)
    raise_flag(episode, "saddle_anesthesia", coordinator, 2)
    refer(episode, coordinator, 2, urgency="immediate")
    assert review_refusal(episode, clinician, 2) == [rules.SX_1]
    mri(episode, clinician, 2, correlated=False)
    assert review_refusal(episode, clinician, 2) == [rules.SX_3]


def test_without_a_flag_surgical_review_still_needs_radicular_pain(patient, coordinator, clinician):
    """SX-1 (elective): radicular pain is required when no red flag is active."""
    episode = new_episode(
        patient,
        coordinator,
        conservative_therapy_failed=True,
        function_significantly_limited=True,
        biopsychosocial_assessment_done=True,
    )
    refer(episode, coordinator, 50)
    mri(episode, clinician, 50)
    assert review_refusal(episode, clinician, 50) == [rules.SX_1]
    assess(episode, clinician, 50, radicular_pain=True)
    assert review_refusal(episode, clinician, 50) == []


# -- REF-2 / REF-3 deadlines run from the first recording of the current run ---------------


@pytest.mark.parametrize(
    ("fact", "rule", "offset"),
    [("neurological_deficit", rules.REF_3, 0), ("disabling_pain", rules.REF_2, 14)],
)
def test_recording_a_finding_again_does_not_move_its_deadline(
    patient, coordinator, fact, rule, offset
):
    episode = new_episode(patient, coordinator)
    assess(episode, coordinator, 3, **{fact: True})
    first = refresh(episode)
    assert (first.next_deadline, first.next_deadline_rule) == (
        ONSET + timedelta(days=3 + offset),
        rule,
    )
    assess(episode, coordinator, 9, **{fact: True})
    again = refresh(episode)
    assert (again.next_deadline, again.next_deadline_rule) == (first.next_deadline, rule)
    if rule == rules.REF_3:
        with at_day(9):
            view = episode_pathway_view(again)
        assert view["deadlines"][0]["overdue"] is True


def test_recording_a_finding_absent_ends_its_run(patient, coordinator):
    """REF-3: absent ends the run; present again starts a new one from that day."""
    episode = new_episode(patient, coordinator)
    assess(episode, coordinator, 3, neurological_deficit=True)
    assess(episode, coordinator, 5, neurological_deficit=False)
    assert refresh(episode).next_deadline_rule != rules.REF_3
    assess(episode, coordinator, 8, neurological_deficit=True)
    after = refresh(episode)
    assert (after.next_deadline, after.next_deadline_rule) == (
        ONSET + timedelta(days=8),
        rules.REF_3,
    )


# -- urgency clears only when someone decides --------------------------------------------------


@pytest.mark.parametrize("urgency", ["routine", "within_2_weeks"])
def test_a_referral_below_immediate_is_refused_with_an_active_flag(patient, coordinator, urgency):
    """RF-1: with an active red flag the referral must be immediate (422), nothing changes."""
    episode = new_episode(patient, coordinator)
    raise_flag(episode, "saddle_anesthesia", coordinator, 2)
    before = refresh(episode)
    with pytest.raises(services.GuardFailedError) as exc:
        refer(episode, coordinator, 2, urgency=urgency)
    assert reasons_of(exc) == [rules.RF_1]
    after = refresh(episode)
    assert (after.state, after.urgent_since, after.version) == (
        "urgent_escalation",
        before.urgent_since,
        before.version,
    )
    assert not Referral.objects.filter(episode=episode).exists()
    assert refer(episode, coordinator, 2, urgency="immediate").state == "specialist_referral"
    referral = Referral.objects.get(episode=episode)
    assert (referral.urgency, referral.due_rule, referral.due_date_met) == (
        "immediate",
        rules.RF_1,
        True,
    )


def test_ref3_asks_for_an_immediate_referral_and_ref2_for_two_weeks(patient, coordinator):
    deficit = new_episode(patient, coordinator, neurological_deficit=True)
    with pytest.raises(services.GuardFailedError) as exc:
        refer(deficit, coordinator, 1, urgency="within_2_weeks")
    assert reasons_of(exc) == [rules.REF_3]
    assert refer(deficit, coordinator, 1, urgency="immediate").state == "specialist_referral"

    disabling = new_episode(PatientFactory(care_team=patient.care_team), coordinator)
    assess(disabling, coordinator, 1, disabling_pain=True)
    with pytest.raises(services.GuardFailedError) as exc:
        refer(disabling, coordinator, 1, urgency="routine")
    assert reasons_of(exc) == [rules.REF_2]
    assert refer(disabling, coordinator, 1, urgency="within_2_weeks").state == (
        "specialist_referral"
    )


def test_an_omitted_urgency_is_the_least_the_rules_ask_for(patient, coordinator):
    episode = new_episode(patient, coordinator)
    raise_flag(episode, "fever", coordinator, 2)
    refer(episode, coordinator, 2)
    assert Referral.objects.get(episode=episode).urgency == "immediate"
    plain = new_episode(PatientFactory(care_team=patient.care_team), coordinator)
    refer(plain, coordinator, 2)
    assert Referral.objects.get(episode=plain).urgency == "routine"


def test_only_a_clinician_rules_a_flag_out_and_only_with_a_note(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator)
    flag = raise_flag(episode, "fever", coordinator, 2)
    with at_day(3), pytest.raises(services.NotPermittedError):
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=coordinator, note="afebrile"
        )
    with at_day(3), pytest.raises(ValidationError) as exc:
        services.red_flag_rule_out(flag_id=flag.pk, episode_id=episode.pk, by=clinician, note=" ")
    assert "note" in exc.value.message_dict
    assert RedFlag.objects.get(pk=flag.pk).status == "active"
    rule_out(episode, flag, clinician, 3, note="afebrile on examination")
    ruled = RedFlag.objects.get(pk=flag.pk)
    assert (ruled.status, ruled.ruled_out_by, ruled.ruled_out_note) == (
        "ruled_out",
        clinician,
        "afebrile on examination",
    )


def test_a_flag_raised_after_the_referral_sets_a_new_deadline(patient, coordinator):
    """RF-4 raised in specialist_referral: referral due that day, met by the urgent one."""
    episode = new_episode(patient, coordinator)
    refer(episode, coordinator, 5)
    raise_flag(episode, "fever", coordinator, 20)
    escalated = refresh(episode)
    assert escalated.state == "urgent_escalation"
    assert (escalated.next_deadline, escalated.next_deadline_rule) == (
        ONSET + timedelta(days=20),
        rules.RF_4,
    )
    with at_day(22):
        assert episode_pathway_view(escalated)["deadlines"][0]["overdue"] is True
    refer(episode, coordinator, 22, urgency="immediate")
    second = Referral.objects.filter(episode=episode).latest("pk")
    assert (second.due_on, second.due_rule, second.due_date_met) == (
        ONSET + timedelta(days=20),
        rules.RF_4,
        False,
    )
    assert refresh(episode).urgent_since is None


def test_an_active_flag_blocks_resolve_and_close_is_for_a_clinician(
    patient, coordinator, clinician
):
    """RF: resolve refused (422) while a flag is active; close only by a clinician (403)."""
    episode = new_episode(patient, coordinator)
    flag = raise_flag(episode, "saddle_anesthesia", coordinator, 2)
    with at_day(2), pytest.raises(services.GuardFailedError) as exc:
        transition(episode, "resolve", coordinator)
    assert reasons_of(exc) == [rules.RF]
    with at_day(2), pytest.raises(services.GuardFailedError):
        transition(episode, "resolve", clinician)
    with at_day(2), pytest.raises(services.NotPermittedError):
        transition(episode, "close", coordinator, reason="transferred")
    assert refresh(episode).state == "urgent_escalation"
    with at_day(2):
        assert transition(episode, "close", clinician, reason="transferred").state == "closed"

    other = new_episode(PatientFactory(care_team=patient.care_team), coordinator)
    flag = raise_flag(other, "fever", coordinator, 2)
    rule_out(other, flag, clinician, 3)
    with at_day(3):
        assert transition(other, "resolve", coordinator).state == "resolved"


# -- the emergency waiver lapses with the emergency -----------------------------------------


def test_plan_surgery_checks_the_elective_gates_once_urg1_lapsed(patient, coordinator, clinician):
    episode = surgical_review(patient, coordinator, clinician)
    flag = RedFlag.objects.get(episode=episode)
    rule_out(episode, flag, clinician, 3)
    with at_day(3), pytest.raises(services.GuardFailedError) as exc:
        transition(episode, "plan_surgery", clinician, procedure="discectomy", technique="open")
    assert set(reasons_of(exc)) == {rules.CC_1, rules.SX_1, rules.SX_2}
    with at_day(3):
        actions = episode_pathway_view(refresh(episode))["next_actions"]
    assert {"action": "review_state", "due": "2026-10-04", "rule": rules.SX_1} in actions
    assess(
        episode,
        clinician,
        50,
        radicular_pain=True,
        conservative_therapy_failed=True,
        function_significantly_limited=True,
        biopsychosocial_assessment_done=True,
    )
    with at_day(50):
        after = transition(
            episode, "plan_surgery", clinician, procedure="discectomy", technique="open"
        )
    assert after.state == "surgery"


def test_while_the_flag_is_active_plan_surgery_keeps_the_waiver(patient, coordinator, clinician):
    episode = surgical_review(patient, coordinator, clinician)
    with at_day(2):
        after = transition(
            episode, "plan_surgery", clinician, procedure="discectomy", technique="endoscopic"
        )
    assert after.state == "surgery"


# -- corrections recompute and leave a trace --------------------------------------------------


def test_a_birth_date_correction_derives_rf3_and_is_on_the_timeline(team, coordinator):
    patient = PatientFactory(care_team=team, birth_date=date(1990, 1, 1))
    episode = new_episode(patient, coordinator, new_onset_pain=True)
    assert not RedFlag.objects.filter(episode=episode).exists()
    with at_day(4), pytest.raises(ValidationError) as exc:
        services.patient_update(
            patient_id=patient.pk, by=coordinator, fields={"birth_date": date(1960, 1, 1)}
        )
    assert "reason" in exc.value.message_dict
    with at_day(4):
        services.patient_update(
            patient_id=patient.pk,
            by=coordinator,
            reason="typo at registration",
            fields={"birth_date": date(1960, 1, 1)},
        )
    flag = RedFlag.objects.get(episode=episode)
    assert (flag.sign, flag.category, flag.source) == (
        "age_over_50_new_onset",
        rules.RF_3,
        "system",
    )
    after = refresh(episode)
    assert after.state == "urgent_escalation"
    assert (after.next_deadline, after.next_deadline_rule) == (
        ONSET + timedelta(days=4),
        rules.RF_3,
    )
    correction = next(e for e in episode_timeline(after) if e.kind == "correction")
    assert (correction.by, correction.data) == (
        coordinator.username,
        {
            "field": "birth_date",
            "old": "1990-01-01",
            "new": "1960-01-01",
            "reason": "typo at registration",
        },
    )


def test_a_date_correction_needs_a_reason_and_shows_old_and_new(patient, coordinator):
    """CC-1: back-dating conservative care opens the 42-day gate, never silently."""
    episode = new_episode(patient, coordinator, conservative_therapy_failed=True)
    with at_day(30):  # the same date: nothing is corrected, no reason needed
        services.episode_update(
            episode_id=episode.pk, by=coordinator, fields={"conservative_care_start": ONSET}
        )
    assert not Correction.objects.filter(episode=episode).exists()
    later = ONSET + timedelta(days=10)
    with at_day(30), pytest.raises(ValidationError) as exc:
        services.episode_update(
            episode_id=episode.pk, by=coordinator, fields={"conservative_care_start": later}
        )
    assert "reason" in exc.value.message_dict
    assert refresh(episode).conservative_care_start == ONSET
    with at_day(30):
        services.episode_update(
            episode_id=episode.pk,
            by=coordinator,
            fields={"conservative_care_start": later},
            reason="therapy began at the first visit",
        )
    row = Correction.objects.get(episode=episode)
    assert (row.field, row.old_value, row.new_value, row.by) == (
        "conservative_care_start",
        ONSET,
        later,
        coordinator,
    )
    six_weeks = Reminder.objects.get(episode=episode, milestone="6_weeks", audience="patient")
    assert six_weeks.milestone_date == later + timedelta(days=42)


def test_a_stale_version_on_a_correction_is_a_conflict(patient, coordinator):
    episode = new_episode(patient, coordinator)

    def correct(version):
        with at_day(3):
            return services.episode_update(
                episode_id=episode.pk,
                by=coordinator,
                fields={"symptom_onset": ONSET - timedelta(days=3)},
                reason="patient remembered",
                version=version,
            )

    with pytest.raises(services.StaleVersionError):
        correct(episode.version - 1)
    assert not Correction.objects.exists()
    assert correct(refresh(episode).version).symptom_onset == ONSET - timedelta(days=3)


# -- stale facts --------------------------------------------------------------------------------


def test_an_mri_before_symptom_onset_does_not_satisfy_sx1(patient, coordinator, clinician):
    """SX-1 / SX-3: imaging of an earlier episode does not count; of this one it does."""
    episode = new_episode(patient, coordinator)
    raise_flag(episode, "saddle_anesthesia", coordinator, 2)
    refer(episode, coordinator, 2, urgency="immediate")
    mri(episode, clinician, 2, performed_on=ONSET - timedelta(days=30))
    assert review_refusal(episode, clinician, 2) == [rules.SX_1]
    mri(episode, clinician, 2, performed_on=ONSET)
    assert review_refusal(episode, clinician, 2) == []


def test_imaging_eligible_whose_facts_stopped_holding_gets_a_review_action(
    patient, coordinator, clinician
):
    """IM-1: therapy no longer failed in imaging_eligible: the state stays, review it."""
    episode = new_episode(
        patient, coordinator, conservative_therapy_failed=True, candidate_for_esi=True
    )
    with at_day(42):
        transition(episode, "confirm_imaging_eligibility", clinician)
        assert "review_state" not in [
            a["action"] for a in episode_pathway_view(refresh(episode))["next_actions"]
        ]
    assess(episode, clinician, 45, conservative_therapy_failed=False)
    with at_day(45):
        view = episode_pathway_view(refresh(episode))
    assert refresh(episode).state == "imaging_eligible"
    assert {"action": "review_state", "due": "2026-11-15", "rule": rules.IM_1} in view[
        "next_actions"
    ]


# -- a false alarm keeps the 6-week reminder ----------------------------------------------------


def test_clear_escalation_brings_the_six_week_reminder_back(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator)
    flag = raise_flag(episode, "fever", coordinator, 5)
    six_weeks = Reminder.objects.get(episode=episode, milestone="6_weeks", audience="care_team")
    assert six_weeks.status == "cancelled"
    assert "reassessment done" not in six_weeks.status_reason
    assert (
        six_weeks.status_reason == "no 6-week reassessment while the episode is urgent_escalation"
    )
    rule_out(episode, flag, clinician, 6)
    with at_day(6):
        transition(episode, "clear_escalation", clinician, note="afebrile")
    six_weeks.refresh_from_db()
    assert (six_weeks.status, six_weeks.status_reason) == ("scheduled", "")
    assert six_weeks.milestone_date == ONSET + timedelta(days=42)


# -- queues by each patient's local date ------------------------------------------------------


def test_overdue_follows_the_patients_local_date(team, coordinator):
    """REF-3 due on day 3: overdue from local midnight, in Tokyo before New York."""
    from datetime import datetime  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from episodes.selectors import queue_episodes  # noqa: PLC0415

    tokyo = PatientFactory(care_team=team, timezone="Asia/Tokyo")
    new_york = PatientFactory(care_team=team, timezone="America/New_York")
    due = date(2026, 10, 4)
    episodes = {}
    for patient in (tokyo, new_york):
        episode = new_episode(patient, coordinator)
        with at_day(3):
            services.assessment_record(
                episode_id=episode.pk, by=coordinator, values={"neurological_deficit": True}
            )
        episodes[patient.timezone] = refresh(episode)
        assert episodes[patient.timezone].next_deadline == due
    # 2026-10-05 00:30 in Tokyo is 2026-10-04 11:30 in New York.
    moment = datetime(2026, 10, 5, 0, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    overdue = set(
        queue_episodes("overdue", user=coordinator, now=moment).values_list("pk", flat=True)
    )
    assert overdue == {episodes["Asia/Tokyo"].pk}
    soon = set(
        queue_episodes("due_soon", user=coordinator, now=moment).values_list("pk", flat=True)
    )
    assert episodes["America/New_York"].pk in soon
    later = datetime(2026, 10, 5, 0, 30, tzinfo=ZoneInfo("America/New_York"))
    overdue = set(
        queue_episodes("overdue", user=coordinator, now=later).values_list("pk", flat=True)
    )
    assert overdue == {e.pk for e in episodes.values()}


# -- SX-5 ------------------------------------------------------------------------------------


def test_recurrent_herniation_alone_does_not_allow_fusion(patient, coordinator, clinician):
    episode = surgical_review(patient, coordinator, clinician)
    with at_day(2), pytest.raises(services.GuardFailedError) as exc:
        transition(
            episode,
            "plan_surgery",
            clinician,
            procedure="fusion",
            fusion_indication="recurrent_herniation_reoperation",
        )
    assert reasons_of(exc) == [rules.SX_5]
    with at_day(2):
        after = transition(
            episode,
            "plan_surgery",
            clinician,
            procedure="fusion",
            fusion_indication=["recurrent_herniation_reoperation", "instability"],
        )
    assert after.state == "surgery"
    plan = SurgeryPlan.objects.get(episode=episode)
    assert plan.fusion_indication == "recurrent_herniation_reoperation,instability"


# -- writes to a closed episode ----------------------------------------------------------------


def test_writes_to_a_closed_episode_are_episode_closed(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator)
    with at_day(2):
        transition(episode, "close", coordinator, reason="withdrawn")
    writes = [
        lambda: services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"radicular_pain": True}
        ),
        lambda: services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator),
        lambda: services.imaging_record(episode_id=episode.pk, by=clinician, performed_on=ONSET),
        lambda: services.care_plan_item_add(episode_id=episode.pk, by=coordinator, item="nsaid"),
        lambda: services.episode_update(
            episode_id=episode.pk, by=coordinator, fields={"assigned_to": None}
        ),
    ]
    for write in writes:
        with at_day(3), pytest.raises(services.EpisodeClosedError):
            write()
    assert Episode.objects.get(pk=episode.pk).version == refresh(episode).version


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Madrid"])
def test_overdue_and_due_soon_turn_at_the_patients_midnight(team, coordinator, zone):
    """REF-3 is due soon until the local midnight after its day, then overdue, in any zone."""
    from datetime import datetime, time  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from episodes.selectors import queue_episodes  # noqa: PLC0415

    episode = new_episode(PatientFactory(care_team=team, timezone=zone), coordinator)
    with at_day(3):
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"neurological_deficit": True}
        )
    due = refresh(episode).next_deadline
    assert refresh(episode).next_deadline_rule == rules.REF_3
    midnight = datetime.combine(due + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))

    def queues_at(moment) -> set[str]:
        return {
            name
            for name in ("overdue", "due_soon")
            if queue_episodes(name, user=coordinator, now=moment).filter(pk=episode.pk).exists()
        }

    assert queues_at(midnight - timedelta(seconds=1)) == {"due_soon"}
    assert queues_at(midnight) == {"overdue"}
