"""The report from monthly rollups and the live rest equals the report read wholly live.

Random data sets over seven enrolment months and two teams (written row by row, with the
dates and times the services would have given them), rolled up, then compared with the
live computation: on ranges that cut months and ranges that do not, on days long after the
refresh (figures that turn on today), after backdated writes to rolled-up months (before
and after the next refresh), and through the services' own corrections.
"""

# Seeded random data sets, repeatable, not secrets; table names from the models' _meta.
# ruff: noqa: S311, SLF001

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes import services
from episodes.models import (
    CarePlanItem,
    Episode,
    EsiPlan,
    ImagingStudy,
    Patient,
    RedFlag,
    RedFlagStatus,
    Referral,
    SurgeryPlan,
    TransitionLog,
)
from notifications.models import CheckIn, Reminder
from ops.models import Heartbeat
from reports.figures import ReportRequest, adherence_report, collect
from reports.models import Rollup, RollupChange
from reports.rollups import CODE_VERSION, REFRESH_LOCK, current_rollups, rollups_refresh
from reports.tasks import refresh_adherence_rollups
from tests.factories import PatientFactory, UserFactory
from tests.reports.services_data import enrol, on

pytestmark = pytest.mark.django_db

ZONES = ("America/New_York", "Pacific/Kiritimati", "UTC", "Pacific/Honolulu", "Europe/London")
STATES = (
    "conservative_care", "urgent_escalation", "imaging_eligible", "esi", "specialist_referral",
    "surgical_review", "resolved", "closed",
)  # fmt: skip
SIGNS = ("saddle_anesthesia", "progressive_motor_deficit", "fever", "significant_trauma")
RULES = ("REF-1", "REF-2", "REF-3", "RF-1", "RF-4")
ITEMS = ("natural_history_education", "stay_active_advice", "core_stabilization", "mckenzie",
         "pregabalin", "radiofrequency_ablation")  # fmt: skip
FIRST, LAST = date(2025, 10, 1), date(2026, 4, 20)  # enrolments
REFRESHED = datetime(2026, 4, 25, 12, tzinfo=UTC)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _day(rng: random.Random, start: date, days: int) -> date:
    return start + timedelta(days=rng.randrange(days))


def _episode(rng: random.Random, team, users) -> Episode:
    enrolled = _day(rng, FIRST, (LAST - FIRST).days)
    onset = enrolled - timedelta(days=rng.choice((0, 3, 20, 95)))
    disabling = rng.random() < 0.3
    deficit = rng.random() < 0.2
    episode = Episode.objects.create(
        patient=PatientFactory(care_team=team, timezone=rng.choice(ZONES)),
        care_team=team,
        symptom_onset=onset,
        conservative_care_start=enrolled - timedelta(days=rng.choice((0, 0, 10))),
        enrolled_on=enrolled,
        state=rng.choice(STATES),
        facts={"disabling_pain": disabling, "neurological_deficit": deficit},
        disabling_pain_recorded_on=enrolled + timedelta(days=2) if disabling else None,
        neurological_deficit_recorded_on=enrolled + timedelta(days=5) if deficit else None,
    )
    for _ in range(rng.choice((0, 0, 1, 2))):
        _flag(rng, episode, users)
    for _ in range(rng.choice((0, 1, 2))):
        ImagingStudy.objects.create(
            episode=episode, performed_on=_day(rng, onset - timedelta(days=5), 80)
        )
    for _ in range(rng.choice((0, 0, 1, 2))):
        made = _day(rng, enrolled, 120)
        row = Referral.objects.create(
            episode=episode,
            urgency="immediate",
            made_on=made,
            due_on=None if rng.random() < 0.1 else _day(rng, enrolled, 100),
            due_rule=rng.choice(RULES),
            due_date_met=False,
        )
        Referral.objects.filter(pk=row.pk).update(created_at=_at(made, rng.randrange(24)))
    for item in rng.sample(ITEMS, rng.randrange(4)):
        started = None if rng.random() < 0.3 else _day(rng, enrolled - timedelta(days=3), 200)
        row = CarePlanItem.objects.create(
            episode=episode,
            item=item,
            category="x",
            started_on=started,
            flags=[{"rule": rng.choice(("CC-3", "RFA-1")), "message": "m"}] * rng.randrange(2),
        )
        CarePlanItem.objects.filter(pk=row.pk).update(
            recorded_at=_at(_day(rng, enrolled, 20), rng.randrange(24))
        )
    for _ in range(rng.choice((0, 0, 1, 2, 4))):
        EsiPlan.objects.create(
            episode=episode,
            guidance="fluoroscopic",
            approach="interlaminar",
            patient_consented=True,
        )
    if rng.random() < 0.2:
        SurgeryPlan.objects.create(
            episode=episode,
            procedure=rng.choice(("fusion", "discectomy")),
            fusion_indication=rng.choice(("", "instability", "instability,deformity")),
        )
    _moves(rng, episode)
    for milestone in rng.sample(("2_weeks", "6_weeks", "3_months"), rng.randrange(4)):
        _reminder(rng, episode, milestone)
    return episode


def _flag(rng: random.Random, episode: Episode, users) -> RedFlag:
    raised = _day(rng, episode.enrolled_on, 60)
    flag = RedFlag.objects.create(episode=episode, sign=rng.choice(SIGNS), raised_on=raised)
    ruled_out = rng.random() < 0.4
    RedFlag.objects.filter(pk=flag.pk).update(
        raised_at=_at(raised, rng.randrange(24)),
        status=RedFlagStatus.RULED_OUT if ruled_out else RedFlagStatus.ACTIVE,
        ruled_out_at=_at(raised + timedelta(days=rng.randrange(3)), 23) if ruled_out else None,
        ruled_out_by=rng.choice(users) if ruled_out else None,
    )
    return flag


def _moves(rng: random.Random, episode: Episode) -> None:
    state, day = "conservative_care", episode.enrolled_on
    for index in range(rng.randrange(4)):
        day += timedelta(days=rng.randrange(40))
        target = rng.choice(STATES)
        row = TransitionLog.objects.create(
            episode=episode,
            transition="t",
            from_state=state,
            to_state=target,
            facts_snapshot={},
            evaluated_on=day,
            pathway_version="test",
        )
        TransitionLog.objects.filter(pk=row.pk).update(at=_at(day, 10 + index))
        state = target


def _reminder(rng: random.Random, episode: Episode, milestone: str) -> Reminder:
    reminder = Reminder.objects.create(
        episode=episode,
        milestone=milestone,
        audience=rng.choice(("patient", "patient", "care_team")),
        channel=rng.choice(("email", "sms")),
        milestone_date=episode.symptom_onset,
        due_at=_at(episode.symptom_onset, 12),
        next_attempt_at=_at(episode.symptom_onset, 12),
        status=rng.choice(("sent", "sent", "failed", "skipped", "scheduled")),
    )
    if reminder.status == "sent" and rng.random() < 0.6:
        CheckIn.objects.create(
            episode=episode,
            reminder=reminder,
            overall=rng.choice(("better", "same", "worse", "resolved")),
            disabling_pain=False,
        )
    return reminder


def _request(teams, start: date, end: date) -> ReportRequest:
    return ReportRequest(tuple(t.pk for t in teams), tuple(t.name for t in teams), None, start, end)


RANGES = (
    (date(2025, 10, 1), date(2026, 3, 31)),  # whole months, all rolled up
    (date(2025, 10, 17), date(2026, 4, 20)),  # partial months at both ends, the open one
    (date(2025, 11, 1), date(2025, 11, 30)),  # one month
    (date(2025, 12, 31), date(2026, 2, 1)),  # a month and a day either side
    (date(2025, 6, 1), date(2026, 12, 31)),  # wider than the data
)


def assert_same(teams, moment: datetime) -> None:
    """Every range's figures, rollups + live against live, as the JSON a client reads."""
    with time_machine.travel(moment, tick=False):
        for start, end in RANGES:
            request = _request(teams, start, end)
            rolled = adherence_report(request)["figures"]
            live = collect(request).data
            assert json.dumps(rolled) == json.dumps(live), (start, end, moment)


def _refresh(moment: datetime = REFRESHED) -> None:
    with time_machine.travel(moment, tick=False):
        rollups_refresh()


def _backdate(rng: random.Random, episodes: list[Episode], users) -> None:
    """Writes that change rolled-up months' figures, as corrections and late events do."""
    old = [e for e in episodes if e.enrolled_on < date(2026, 3, 1)]
    a, b, c, d, e, f, g = rng.sample(old, 7)
    Episode.objects.filter(pk=a.pk).update(symptom_onset=a.symptom_onset - timedelta(days=30))
    _flag(rng, b, users)
    RedFlag.objects.filter(episode=c).update(
        status=RedFlagStatus.RULED_OUT, ruled_out_at=_at(c.enrolled_on, 20), ruled_out_by=users[0]
    )
    Patient.objects.filter(pk=d.patient_id).update(timezone="Pacific/Kiritimati")
    Reminder.objects.filter(episode=e).update(status="failed")  # a provider's late verdict
    Episode.objects.filter(pk=f.pk).update(enrolled_on=date(2026, 2, 27))  # moved month
    TransitionLog.objects.filter(episode=g).delete()
    Episode.objects.filter(pk=g.pk).update(care_team=episodes[-1].care_team)
    users[1].username = "renamed-after-the-rollup"
    users[1].save()


@pytest.mark.parametrize("seed", range(6))
def test_rollups_and_the_live_rest_equal_the_live_report(team, other_team, seed):
    rng = random.Random(seed)
    users = [UserFactory(username=f"dr-{seed}-{n}") for n in range(2)]
    episodes = [_episode(rng, rng.choice((team, team, other_team)), users) for _ in range(40)]
    teams = (team, other_team)

    _refresh()
    rolled = set(Rollup.objects.values_list("care_team_id", "month"))
    assert (team.pk, date(2025, 11, 1)) in rolled
    assert all(month < date(2026, 4, 1) for _, month in rolled)  # April is still open
    with time_machine.travel(REFRESHED, tick=False):
        stored = current_rollups(_request(teams, date(2025, 10, 1), date(2026, 3, 31)).scope)
    assert len(stored) == len(rolled)  # none outdated yet: the report uses every one

    assert_same(teams, REFRESHED)
    # Months later, nothing written: open overdue referrals, therapy started and the
    # states at each month's end move with today, from the same stored months.
    assert_same(teams, datetime(2026, 9, 3, 6, tzinfo=UTC))

    _backdate(rng, episodes, users)
    assert_same(teams, REFRESHED + timedelta(hours=1))  # the outdated months read live
    _refresh(REFRESHED + timedelta(days=1))
    assert not RollupChange.objects.filter(month__lt=date(2026, 4, 1)).exists()
    assert_same(teams, REFRESHED + timedelta(days=1, hours=1))
    assert_same(teams, datetime(2027, 1, 2, 23, tzinfo=UTC))


def test_a_write_outdates_only_its_own_month_until_the_next_refresh(team):
    rng = random.Random(99)
    users = [UserFactory(), UserFactory()]
    episodes = [_episode(rng, team, users) for _ in range(25)]
    _refresh()
    scope = _request([team], date(2025, 10, 1), date(2026, 3, 31)).scope
    before = {month for _, month, _ in current_rollups(scope)}
    target = next(e for e in episodes if e.enrolled_on < date(2026, 3, 1))
    ImagingStudy.objects.create(episode=target, performed_on=target.enrolled_on)

    after = {month for _, month, _ in current_rollups(scope)}
    assert after == before - {target.enrolled_on.replace(day=1)}
    _refresh(REFRESHED + timedelta(days=1))
    assert {month for _, month, _ in current_rollups(scope)} == before
    assert_same([team], REFRESHED + timedelta(days=2))


def test_backdated_corrections_through_the_services(team, coordinator, clinician):
    first = enrol(team, coordinator, day=date(2026, 1, 10), onset=date(2026, 1, 5))
    second = enrol(
        team, coordinator, day=date(2026, 2, 3), onset=date(2025, 12, 1), disabling_pain=True
    )
    with on(date(2026, 2, 20)):
        services.red_flag_raise(episode_id=first.pk, sign="fever", by=coordinator)
    _refresh(datetime(2026, 3, 5, 12, tzinfo=UTC))
    assert Rollup.objects.filter(month=date(2026, 1, 1)).exists()
    assert_same([team], datetime(2026, 3, 5, 13, tzinfo=UTC))

    # In March: the January episode's onset corrected back, the February one imaged and
    # moved on, a flag ruled out: each changes a rolled-up month's figures.
    with on(date(2026, 3, 6)):
        services.episode_update(
            episode_id=first.pk,
            by=coordinator,
            fields={"symptom_onset": date(2025, 11, 20)},
            reason="onset was earlier: GP letter",
        )
        services.imaging_record(episode_id=second.pk, by=clinician, performed_on=date(2026, 2, 10))
        flag = RedFlag.objects.get(episode=first)
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=first.pk, by=clinician, note="afebrile on review"
        )
        services.episode_transition(episode_id=second.pk, name="resolve", by=clinician, data={})
    scope = _request([team], date(2026, 1, 1), date(2026, 2, 28)).scope
    with time_machine.travel(datetime(2026, 3, 6, 20, tzinfo=UTC), tick=False):
        assert current_rollups(scope) == []  # both months written since their refresh
    assert_same([team], datetime(2026, 3, 6, 20, tzinfo=UTC))
    _refresh(datetime(2026, 3, 7, 12, tzinfo=UTC))
    assert_same([team], datetime(2026, 3, 7, 13, tzinfo=UTC))
    assert_same([team], datetime(2026, 8, 1, 13, tzinfo=UTC))


def test_a_range_of_rolled_up_months_reads_no_episode_rows(team, django_assert_max_num_queries):
    rng = random.Random(5)
    users = [UserFactory(), UserFactory()]
    for _ in range(15):
        _episode(rng, team, users)
    _refresh()
    request = _request([team], date(2025, 10, 1), date(2026, 3, 31))
    with (
        time_machine.travel(REFRESHED, tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        adherence_report(request)
    # The rollups and, at most, the names of users who ruled flags out.
    assert len(queries) <= 2
    with time_machine.travel(REFRESHED, tick=False), django_assert_max_num_queries(14):
        adherence_report(_request([team], date(2025, 10, 17), date(2026, 4, 20)))


def test_every_table_the_report_reads_has_its_triggers():
    tables = {
        model._meta.db_table: {"INSERT", "UPDATE", "DELETE"}
        for model in (
            Episode, RedFlag, ImagingStudy, Referral, CarePlanItem, EsiPlan, SurgeryPlan,
            TransitionLog, Reminder, CheckIn,
        )
    }  # fmt: skip
    tables[Patient._meta.db_table] = {"UPDATE"}  # its time zone
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname LIKE %s",
            ["%_rollup_%"],
        )
        found: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            found.setdefault(table, set()).add(name.rsplit("_", 1)[1].upper())
    assert found == tables


def test_the_beat_job_rolls_up_closed_months_and_stamps_its_success(team, coordinator):
    enrol(team, coordinator, day=date(2026, 1, 10), onset=date(2026, 1, 5))
    for day in (1, 2, 3):
        enrol(team, coordinator, day=date(2026, 3, day), onset=date(2026, 3, 1))
    with time_machine.travel(datetime(2026, 3, 4, 12, tzinfo=UTC), tick=False):
        refresh_adherence_rollups.apply()
    assert list(Rollup.objects.values_list("month", "episodes")) == [(date(2026, 1, 1), 1)]
    # The open month keeps one change row, so it is rolled up once it closes.
    assert RollupChange.objects.filter(month=date(2026, 3, 1)).count() == 1
    assert Heartbeat.objects.filter(name="refresh-adherence-rollups").exists()
    with time_machine.travel(datetime(2026, 4, 3, 12, tzinfo=UTC), tick=False):
        refresh_adherence_rollups.apply()
    assert Rollup.objects.get(month=date(2026, 3, 1)).episodes == 3


def test_a_run_stops_starting_months_when_its_time_is_up_and_the_next_goes_on(team, coordinator):
    for month in (1, 2, 3):
        enrol(team, coordinator, day=date(2026, month, 10), onset=date(2026, month, 5))
    with time_machine.travel(datetime(2026, 5, 4, 12, tzinfo=UTC), tick=False):
        first = rollups_refresh(seconds=0)
        assert (first.rolled_up, first.left) == ([], 3)
        assert len(rollups_refresh().rolled_up) == 3
    assert Rollup.objects.count() == 3


def test_a_second_refresh_while_one_runs_does_nothing(team, coordinator):
    enrol(team, coordinator, day=date(2026, 1, 10), onset=date(2026, 1, 5))
    other = psycopg.connect(
        host=connection.settings_dict["HOST"],
        port=connection.settings_dict["PORT"],
        user=connection.settings_dict["USER"],
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [REFRESH_LOCK])
        with time_machine.travel(datetime(2026, 3, 4, 12, tzinfo=UTC), tick=False):
            assert rollups_refresh().skipped
        assert not Rollup.objects.exists()
    finally:
        other.close()


def test_a_rollup_counted_by_other_code_is_not_used_and_is_counted_again(team, coordinator):
    enrol(team, coordinator, day=date(2026, 1, 10), onset=date(2026, 1, 5))
    _refresh(datetime(2026, 3, 4, 12, tzinfo=UTC))
    scope = _request([team], date(2026, 1, 1), date(2026, 1, 31)).scope
    assert len(current_rollups(scope)) == 1
    # As after a deploy that changed how a figure is counted: the stored tally is not used.
    Rollup.objects.update(version="before-deploy", tally={"episodes": [[7]]})
    assert current_rollups(scope) == []
    assert_same([team], datetime(2026, 3, 4, 13, tzinfo=UTC))
    _refresh(datetime(2026, 3, 4, 14, tzinfo=UTC))
    assert Rollup.objects.get().version == CODE_VERSION
    assert len(current_rollups(scope)) == 1
