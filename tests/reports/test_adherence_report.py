"""The adherence report on a small hand-built data set whose every answer is worked out below.

Team A, report from 2026-01-01 to 2026-03-31, today 2026-06-30. Rows are written directly
(with the timestamps they would have had) so each date is exactly the edge it tests.

E1 (NY)  onset/care/enrolled 01-05. Referral 01-19 due 01-19 (REF-3): on time, 0 days.
         Red flag RF-2 raised 01-25, *after* the referral: no referral answers it (waiting),
         and it set a new deadline, due 01-25: open and overdue (RF).
         MRI 01-20 (day 15, no flag active): low value. Education started 01-19 (day 14: in
         time); core stabilisation (CC-4) started 01-20. Moves: 01-19 -> specialist_referral,
         01-25 -> urgent_escalation.
E2 (NY)  onset/care/enrolled 01-10. RF-1 raised 01-12 10:00Z, referral 01-12 16:00Z: 6 h,
         due 01-12 (RF-1): on time, 0 days. MRI 01-13, flag active: not low value.
         Fusion for instability. Moves: 01-12 -> urgent_escalation, 01-12 -> specialist_referral.
E3 (Pacific/Kiritimati, UTC+14) onset 2025-12-20, care/enrolled 01-15. Disabling pain
         recorded 01-22: REF-2 due 02-05, referred 02-05 (met on its last day, 14 days).
         Education recorded 2026-01-29 11:00Z = 01-30 local: day 15, *not* in time (in UTC it
         would have been day 14). RF-4 raised 01-20, ruled out by dr-lee 01-21 02:00Z
         (01-21 local), before the referral: not counted in hours. MRI 01-22: low value.
         Two ESIs. Moves: 02-05 -> specialist_referral, 03-10 -> resolved (by onset + 3 months
         = 03-20: resolved in time).
E4 (NY)  onset 2025-10-01, care/enrolled 02-01. REF-1 due 2026-01-01, referred 02-10: late,
         132 days from onset. One ESI, a discectomy, pregabalin (CC-3) and RFA without blocks
         (RFA-1). Move: 02-10 -> specialist_referral.
E5 (NY)  onset/care/enrolled 03-01, conservative care, disabling pain recorded 03-01:
         REF-2 due 03-15, open and overdue.
E6 enrolled 04-02 (outside the range) and E7 of team B: in nothing.

Reminders to patients: E1 2_weeks email sent, E1 6_weeks email failed, E2 2_weeks email sent
(check-in "same"), E3 2_weeks sms sent (check-in "better"), E3 6_weeks sms skipped as stale,
E3 3_months sms sent (check-in "resolved"); a care-team reminder and E6's are not counted.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import AccessRecord
from careflow.schedule import local_day_start
from episodes.models import (
    CarePlanItem,
    Episode,
    EsiPlan,
    ImagingStudy,
    RedFlag,
    RedFlagStatus,
    Referral,
    SurgeryPlan,
    TransitionLog,
)
from notifications.models import CheckIn, Reminder
from reports.figures import ReportRequest, adherence_report, collect, figure_episode_ids
from tests.clients import client_for
from tests.factories import PatientFactory, UserFactory

TODAY = datetime(2026, 6, 30, 12, tzinfo=UTC)
D = date


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _episode(team, *, onset, start, zone="America/New_York", state="conservative_care", **kw):
    patient = PatientFactory(care_team=team, timezone=zone)
    if kw.get("next_deadline") is not None:
        # What the services keep beside the deadline: the local midnight it turns overdue.
        kw["overdue_from"] = local_day_start(
            kw["next_deadline"] + timedelta(days=1), ZoneInfo(zone)
        )
    return Episode.objects.create(
        patient=patient,
        care_team=team,
        symptom_onset=onset,
        conservative_care_start=start,
        enrolled_on=start,
        state=state,
        **kw,
    )


def _moves(episode, *moves):
    for index, (day, from_state, to_state) in enumerate(moves):
        row = TransitionLog.objects.create(
            episode=episode,
            transition="t",
            from_state=from_state,
            to_state=to_state,
            facts_snapshot={},
            evaluated_on=day,
            pathway_version="test",
        )
        TransitionLog.objects.filter(pk=row.pk).update(at=_at(day, 10 + index))


def _flag(episode, sign, day, *, hour=12, ruled_out_at=None, by=None):
    flag = RedFlag.objects.create(episode=episode, sign=sign, raised_on=day)
    RedFlag.objects.filter(pk=flag.pk).update(
        raised_at=_at(day, hour),
        status=RedFlagStatus.RULED_OUT if ruled_out_at else RedFlagStatus.ACTIVE,
        ruled_out_at=ruled_out_at,
        ruled_out_by=by,
    )


def _referral(episode, *, made_on, due_on, rule, hour=15):
    row = Referral.objects.create(
        episode=episode,
        urgency="immediate",
        made_on=made_on,
        due_on=due_on,
        due_rule=rule,
        due_date_met=made_on <= due_on,
    )
    Referral.objects.filter(pk=row.pk).update(created_at=_at(made_on, hour))


def _reminder(episode, milestone, channel, status, *, audience="patient", answer=None):
    reminder = Reminder.objects.create(
        episode=episode,
        milestone=milestone,
        audience=audience,
        channel=channel,
        milestone_date=episode.symptom_onset,
        due_at=_at(episode.symptom_onset),
        next_attempt_at=_at(episode.symptom_onset),
        status=status,
    )
    if answer:
        CheckIn.objects.create(
            episode=episode, reminder=reminder, overall=answer, disabling_pain=False
        )


def _plan(episode, item, *, started_on=None, recorded_at=None, flags=()):
    row = CarePlanItem.objects.create(
        episode=episode,
        item=item,
        category="x",
        started_on=started_on,
        flags=[{"rule": rule, "message": "m"} for rule in flags],
    )
    if recorded_at:
        CarePlanItem.objects.filter(pk=row.pk).update(recorded_at=recorded_at)


@pytest.fixture
def data(team, other_team):
    cc, spec, urgent = "conservative_care", "specialist_referral", "urgent_escalation"
    e1 = _episode(
        team,
        onset=D(2026, 1, 5),
        start=D(2026, 1, 5),
        state=urgent,
        referral_made_on=D(2026, 1, 19),
    )
    _referral(e1, made_on=D(2026, 1, 19), due_on=D(2026, 1, 19), rule="REF-3")
    _flag(e1, "progressive_motor_deficit", D(2026, 1, 25))
    ImagingStudy.objects.create(episode=e1, performed_on=D(2026, 1, 20))
    _plan(e1, "natural_history_education", started_on=D(2026, 1, 19))
    _plan(e1, "core_stabilization", started_on=D(2026, 1, 20))
    _moves(e1, (D(2026, 1, 19), cc, spec), (D(2026, 1, 25), spec, urgent))

    e2 = _episode(team, onset=D(2026, 1, 10), start=D(2026, 1, 10), state=spec)
    _flag(e2, "saddle_anesthesia", D(2026, 1, 12), hour=10)
    _referral(e2, made_on=D(2026, 1, 12), due_on=D(2026, 1, 12), rule="RF-1", hour=16)
    ImagingStudy.objects.create(episode=e2, performed_on=D(2026, 1, 13))
    SurgeryPlan.objects.create(episode=e2, procedure="fusion", fusion_indication="instability")
    _moves(e2, (D(2026, 1, 12), cc, urgent), (D(2026, 1, 12), urgent, spec))

    dr_lee = UserFactory(username="dr-lee")
    e3 = _episode(
        team,
        onset=D(2025, 12, 20),
        start=D(2026, 1, 15),
        zone="Pacific/Kiritimati",
        state="resolved",
    )
    _referral(e3, made_on=D(2026, 2, 5), due_on=D(2026, 2, 5), rule="REF-2")
    _plan(e3, "natural_history_education", recorded_at=datetime(2026, 1, 29, 11, tzinfo=UTC))
    _flag(
        e3,
        "fever",
        D(2026, 1, 20),
        ruled_out_at=datetime(2026, 1, 21, 2, tzinfo=UTC),
        by=dr_lee,
    )
    ImagingStudy.objects.create(episode=e3, performed_on=D(2026, 1, 22))
    for _ in range(2):
        EsiPlan.objects.create(
            episode=e3, guidance="fluoroscopic", approach="transforaminal", patient_consented=True
        )
    _moves(e3, (D(2026, 2, 5), cc, spec), (D(2026, 3, 10), spec, "resolved"))

    e4 = _episode(team, onset=D(2025, 10, 1), start=D(2026, 2, 1), state=spec)
    _referral(e4, made_on=D(2026, 2, 10), due_on=D(2026, 1, 1), rule="REF-1")
    EsiPlan.objects.create(
        episode=e4, guidance="fluoroscopic", approach="interlaminar", patient_consented=True
    )
    SurgeryPlan.objects.create(episode=e4, procedure="discectomy", technique="open")
    _plan(e4, "pregabalin", flags=["CC-3"])
    _plan(e4, "radiofrequency_ablation", flags=["RFA-1"])
    _moves(e4, (D(2026, 2, 10), cc, spec))

    e5 = _episode(
        team,
        onset=D(2026, 3, 1),
        start=D(2026, 3, 1),
        facts={"disabling_pain": True},
        disabling_pain_recorded_on=D(2026, 3, 1),
        next_deadline=D(2026, 3, 15),
        next_deadline_rule="REF-2",
    )
    e6 = _episode(team, onset=D(2026, 4, 2), start=D(2026, 4, 2))
    _referral(e6, made_on=D(2026, 4, 3), due_on=D(2026, 4, 2), rule="REF-3")
    e7 = _episode(other_team, onset=D(2026, 1, 5), start=D(2026, 1, 5))
    ImagingStudy.objects.create(episode=e7, performed_on=D(2026, 1, 6))

    _reminder(e1, "2_weeks", "email", "sent")
    _reminder(e1, "6_weeks", "email", "failed")
    _reminder(e1, "2_weeks", "email", "sent", audience="care_team")
    _reminder(e2, "2_weeks", "email", "sent", answer="same")
    _reminder(e3, "2_weeks", "sms", "sent", answer="better")
    _reminder(e3, "6_weeks", "sms", "skipped")
    _reminder(e3, "3_months", "sms", "sent", answer="resolved")
    _reminder(e6, "2_weeks", "email", "sent", answer="worse")
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4, "e5": e5, "e6": e6, "e7": e7}


def _request(team) -> ReportRequest:
    return ReportRequest((team.pk,), (team.name,), team.pk, D(2026, 1, 1), D(2026, 3, 31))


def _figures(team) -> dict:
    with time_machine.travel(TODAY, tick=False):
        return adherence_report(_request(team))["figures"]


def test_low_value_imaging(team, data):
    assert _figures(team)["low_value_imaging"] == {
        "rules": ["IM-2", "CC-1"],
        "studies": 3,
        "low_value": 2,
        "rate": 0.6667,
    }
    with time_machine.travel(TODAY, tick=False):
        ids = figure_episode_ids(_request(team), "low_value_imaging")
    assert ids == {data["e1"].pk, data["e3"].pk}


def test_referral_timeliness_per_rule(team, data):
    by_rule = _figures(team)["referral_timeliness"]["by_rule"]
    assert by_rule["REF-1"] == {
        "referrals": 1, "on_time": 0, "share_on_time": 0.0, "median_days": 132,
        "p90_days": 132, "open_overdue": 0,
    }  # fmt: skip
    assert by_rule["REF-2"] == {
        "referrals": 1, "on_time": 1, "share_on_time": 1.0, "median_days": 14,
        "p90_days": 14, "open_overdue": 1,
    }  # fmt: skip
    assert by_rule["REF-3"]["share_on_time"] == 1.0
    assert by_rule["REF-3"]["median_days"] == 0
    # E1's flag came after its referral: due that day (01-25), no referral since.
    assert by_rule["RF"] == {
        "referrals": 1, "on_time": 1, "share_on_time": 1.0, "median_days": 0,
        "p90_days": 0, "open_overdue": 1,
    }  # fmt: skip
    # The trend: E1 and E2 in January, on time; E3 (on time) and E4 (late) in February.
    assert _figures(team)["referral_timeliness"]["by_month"] == [
        {"month": "2026-01", "referrals": 2, "on_time": 2, "share_on_time": 1.0},
        {"month": "2026-02", "referrals": 2, "on_time": 1, "share_on_time": 0.5},
    ]
    with time_machine.travel(TODAY, tick=False):
        assert figure_episode_ids(_request(team), "referral_late:REF-1") == {data["e4"].pk}
        assert figure_episode_ids(_request(team), "referral_overdue:REF-2") == {data["e5"].pk}
        assert figure_episode_ids(_request(team), "referral_overdue:RF") == {data["e1"].pk}


def test_red_flag_to_referral_and_who_ruled_out(team, data):
    assert _figures(team)["red_flag_to_referral"] == {
        "rules": ["RF"],
        "flags": 3,
        "referred": 1,
        "median_hours": 6.0,
        "p90_hours": 6.0,
        "active_without_referral": 1,
        "ruled_out": 1,
        "ruled_out_by": {"dr-lee": 1},
    }
    with time_machine.travel(TODAY, tick=False):
        # E1's flag came after its referral: it still waits for one.
        assert figure_episode_ids(_request(team), "red_flag_waiting") == {data["e1"].pk}


def test_conservative_care_plan_figures(team, data):
    assert _figures(team)["conservative_care"] == {
        "rules": ["CC-2", "CC-3", "CC-4", "RFA-1"],
        "episodes": 5,
        # E1 on day 14; E3 on day 15 in Kiritimati (day 14 had it been counted in UTC).
        "education_within_2_weeks": 1,
        "education_share": 0.2,
        "level_b_physical_therapy": 1,
        "physical_therapy_share": 0.2,
        "items_flagged_cc3": 1,
        "items_flagged_rfa1": 1,
    }


def test_injections_and_surgery(team, data):
    figures = _figures(team)
    assert figures["esi"]["injections"] == 3
    assert figures["esi"]["per_episode"] == 0.6
    assert figures["esi"]["episodes_with"] == {"0": 3, "1": 1, "2": 1, "3+": 0}
    assert figures["surgery"] == {
        "rules": ["SX-4", "SX-5"],
        "plans": 2,
        "fusions": 1,
        "fusion_share": 0.5,
        "fusion_indications": {"instability": 1},
    }
    with time_machine.travel(TODAY, tick=False):
        assert figure_episode_ids(_request(team), "esi") == {data["e3"].pk, data["e4"].pk}
        assert figure_episode_ids(_request(team), "fusion") == {data["e2"].pk}


def test_patients_reached(team, data):
    reached = _figures(team)["patients_reached"]
    rows = {(r["channel"], r["milestone"]): r for r in reached["reminders"]}
    assert rows["email", "2_weeks"] | {} == {
        "channel": "email", "milestone": "2_weeks", "sent": 2, "failed": 0, "skipped": 0
    }  # fmt: skip
    assert rows["email", "6_weeks"]["failed"] == 1
    assert rows["sms", "6_weeks"]["skipped"] == 1  # skipped as stale
    assert rows["sms", "3_months"]["sent"] == 1
    assert sum(r["sent"] + r["failed"] + r["skipped"] for r in rows.values()) == 6
    checkins = {c["milestone"]: c for c in reached["checkins"]}
    assert checkins["2_weeks"]["sent"] == 3
    assert checkins["2_weeks"]["answered"] == 2
    assert checkins["2_weeks"]["response_rate"] == 0.6667
    assert checkins["2_weeks"]["overall"] == {"better": 1, "same": 1, "worse": 0, "resolved": 0}
    assert checkins["2_weeks"]["better_or_resolved_share"] == 0.5
    assert checkins["6_weeks"]["response_rate"] is None
    assert checkins["3_months"]["response_rate"] == 1.0
    assert checkins["3_months"]["better_or_resolved_share"] == 1.0
    assert "8 weeks" in reached["natural_history"]
    with time_machine.travel(TODAY, tick=False):
        problems = figure_episode_ids(_request(team), "reminder_problems")
    assert problems == {data["e1"].pk, data["e3"].pk}  # E1's failed, E3's skipped as stale


def test_flow(team, data):
    flow = _figures(team)["flow"]
    assert flow["states_over_time"] == [
        {
            "on": "2026-01-31",
            "states": {"urgent_escalation": 1, "specialist_referral": 1, "conservative_care": 1},
        },
        {"on": "2026-02-28", "states": {"urgent_escalation": 1, "specialist_referral": 3}},
        *(
            {
                "on": month_end,
                "states": {
                    "urgent_escalation": 1,
                    "specialist_referral": 2,
                    "resolved": 1,
                    "conservative_care": 1,
                },
            }
            # Followed to today (06-30), past the range's end.
            for month_end in ("2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30")
        ),
    ]
    assert flow["days_in_state"] == {
        # conservative care stays 14, 2, 21, 9: nearest-rank median 9, p90 21.
        "conservative_care": {"stays": 4, "median_days": 9, "p90_days": 21},
        "specialist_referral": {"stays": 2, "median_days": 6, "p90_days": 33},
        "urgent_escalation": {"stays": 1, "median_days": 0, "p90_days": 0},
    }
    assert flow["resolved_by_3_months"] == 1
    assert flow["resolved_share"] == 0.2


def test_a_patient_in_utc_plus_14_is_counted_by_local_enrolment_date(team):
    # Enrolled on 2026-01-01 in Kiritimati, which is still 2025-12-31 in UTC.
    _episode(team, onset=D(2026, 1, 1), start=D(2026, 1, 1), zone="Pacific/Kiritimati")
    assert _figures(team)["flow"]["episodes"] == 1


def test_the_query_count_does_not_grow_with_the_data(team, data, django_assert_max_num_queries):
    with time_machine.travel(TODAY, tick=False), django_assert_max_num_queries(12):
        collect(_request(team))
    with time_machine.travel(TODAY, tick=False), CaptureQueriesContext(connection) as before:
        collect(_request(team))
    for day in range(1, 20):
        extra = _episode(team, onset=D(2026, 1, day), start=D(2026, 1, day))
        _flag(extra, "fever", D(2026, 1, day))
        _referral(extra, made_on=D(2026, 1, day + 1), due_on=D(2026, 1, day), rule="RF-4")
        ImagingStudy.objects.create(episode=extra, performed_on=D(2026, 1, day) + timedelta(1))
        _reminder(extra, "2_weeks", "sms", "sent", answer="better")
    with time_machine.travel(TODAY, tick=False), CaptureQueriesContext(connection) as after:
        collect(_request(team))
    assert len(after) == len(before)


# -- the API ----------------------------------------------------------------------------------


URL = "/api/reports/adherence/"


def test_the_api_returns_the_same_figures_as_json_and_csv(team, data, coordinator):
    client = client_for(coordinator)
    query = {"care_team": team.pk, "from": "2026-01-01", "to": "2026-03-31"}
    with time_machine.travel(TODAY, tick=False):
        response = client.get(URL, query)
        as_csv = client.get(URL, {**query, "format": "csv"})
    assert response.status_code == 200
    body = response.json()
    assert body["care_teams"] == ["Team A"]
    assert body["figures"] == _figures(team)
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    rows = dict(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows["figures.low_value_imaging.low_value"] == "2"
    assert rows["figures.referral_timeliness.by_rule.REF-2.share_on_time"] == "1.0"
    assert rows["figures.red_flag_to_referral.median_hours"] == "6.0"


def test_a_team_name_that_looks_like_a_formula_is_text_in_the_csv(team, data, coordinator):
    team.name = '=HYPERLINK("https://evil.example/","click")'
    team.save()
    with time_machine.travel(TODAY, tick=False):
        as_csv = client_for(coordinator).get(
            URL, {"care_team": team.pk, "from": "2026-01-01", "format": "csv"}
        )
    rows = dict(csv.reader(io.StringIO(as_csv.content.decode())))
    assert rows["care_teams"] == "'" + team.name  # OWASP: a leading ' keeps it text
    # The other way: numbers, negative ones too, stay numbers.
    assert rows["figures.flow.episodes"].isdigit()
    assert all(not value.startswith("'-") for value in rows.values())


def test_all_my_teams_when_no_team_is_named(team, data, coordinator):
    with time_machine.travel(TODAY, tick=False):
        body = client_for(coordinator).get(URL, {"from": "2026-01-01", "to": "2026-03-31"}).json()
    assert body["care_team"] is None
    assert body["figures"]["flow"]["episodes"] == 5  # team B's E7 is not counted


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"care_team": "abc"}, "care_team"),
        ({"care_team": "0"}, "care_team"),
        ({"care_team": "²"}, "care_team"),
        ({"care_team": "99999999999999999999"}, "care_team"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(coordinator, query, field):
    response = client_for(coordinator).get(URL, query)
    assert response.status_code == 400
    assert field in str(response.json())


def test_another_teams_report_is_a_404_and_a_superuser_sees_any(
    team, other_team, data, coordinator, superuser
):
    assert client_for(coordinator).get(URL, {"care_team": other_team.pk}).status_code == 404
    assert client_for(coordinator).get(URL, {"care_team": 987654}).status_code == 404
    assert client_for(None).get(URL).status_code == 401
    query = {"care_team": other_team.pk, "from": "2026-01-01", "to": "2026-03-31"}
    with time_machine.travel(TODAY, tick=False):
        body = client_for(superuser).get(URL, query).json()
    assert body["figures"]["low_value_imaging"]["low_value"] == 1  # E7's MRI on day 1


# -- the workspace page ------------------------------------------------------------------------


def test_the_report_page_draws_charts_with_tables_and_links_to_the_episodes(
    client, team, data, coordinator
):
    client.force_login(coordinator)
    query = {"care_team": team.pk, "from": "2026-01-01", "to": "2026-03-31"}
    with time_machine.travel(TODAY, tick=False):
        page = client.get("/reports/adherence/", query)
        assert page.status_code == 200
        html = page.content.decode()
        assert html.count("<svg") == 4
        assert "<script" not in html.split("</header>")[-1]
        assert 'style="' not in html
        for rule in ("IM-2, CC-1", "REF-1", "CC-2, CC-3, CC-4, RFA-1", "SX-4, SX-5"):
            assert rule in html
        link = "/reports/adherence/episodes/?figure=referral_late%3AREF-1"
        assert link in html
        listing = client.get(
            "/reports/adherence/episodes/", {"figure": "referral_late:REF-1", **query}
        )
    assert listing.status_code == 200
    assert f"/episodes/{data['e4'].pk}/" in listing.content.decode()
    assert f"/episodes/{data['e3'].pk}/" not in listing.content.decode()
    # The list shows patients' names: one access record per patient shown.
    shown = AccessRecord.objects.filter(
        user=coordinator, path__startswith="/reports/adherence/episodes/"
    ).values_list("patient_id", flat=True)
    assert set(shown) == {data["e4"].patient_id}


def test_the_page_says_what_is_wrong_and_hides_other_teams(client, other_team, coordinator):
    client.force_login(coordinator)
    bad = client.get("/reports/adherence/", {"from": "2026-02-01", "to": "2026-01-01"})
    assert bad.status_code == 400
    assert "from must be on or before to" in bad.content.decode()
    assert client.get("/reports/adherence/", {"care_team": other_team.pk}).status_code == 404
    unknown = client.get("/reports/adherence/episodes/", {"figure": "nonsense"})
    assert unknown.status_code == 404
