"""Open overdue referrals: the REF/RF referral deadline passed with no referral, whatever else.

PATHWAY.md "Adherence figures": "open overdue = open episodes whose referral deadline has
passed with no referral, whatever other deadlines they also have". An episode whose
earliest deadline is the CC-1 reassessment is still overdue for its referral.
"""

from __future__ import annotations

from datetime import date

from episodes import services
from tests.reports.services_data import behind, enrol, figures, on

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)
TODAY = date(2026, 3, 1)


def _overdue(team) -> dict[str, int]:
    by_rule = figures(team, JAN1, MAR31, today=TODAY)["referral_timeliness"]["by_rule"]
    return {rule: f["open_overdue"] for rule, f in by_rule.items()}


def test_an_overdue_referral_counts_when_the_reassessment_is_due_earlier(team, coordinator):
    # Care back-dated to onset: the CC-1 reassessment is due 02-12; disabling pain recorded
    # 02-05 makes the referral due 02-19 (REF-2). On 03-01 both have passed.
    episode = enrol(team, coordinator, day=date(2026, 1, 20), onset=JAN1, start=JAN1)
    with on(date(2026, 2, 5)):
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"disabling_pain": True}
        )
    episode.refresh_from_db()
    assert (episode.next_deadline, episode.next_deadline_rule) == (date(2026, 2, 12), "CC-1")

    assert _overdue(team) == {"REF-1": 0, "REF-2": 1, "REF-3": 0, "RF": 0}
    assert behind(team, JAN1, MAR31, "referral_overdue:REF-2", today=TODAY) == {episode.pk}


def test_an_overdue_reassessment_alone_is_not_an_overdue_referral(team, coordinator):
    # CC-1 due 02-12 has passed; the referral (REF-1, onset + 3 months) is due 04-01.
    enrol(team, coordinator, day=date(2026, 1, 20), onset=JAN1, start=JAN1)

    assert _overdue(team) == {"REF-1": 0, "REF-2": 0, "REF-3": 0, "RF": 0}


def test_a_referral_made_late_is_no_longer_open(team, coordinator, clinician):
    episode = enrol(team, coordinator, day=date(2026, 1, 20), onset=JAN1, start=JAN1)
    with on(date(2026, 2, 5)):
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"disabling_pain": True}
        )
    with on(date(2026, 2, 25)):
        services.episode_transition(
            episode_id=episode.pk,
            name="refer_to_specialist",
            by=clinician,
            data={"urgency": "within_2_weeks"},
        )

    assert _overdue(team)["REF-2"] == 0
    late = figures(team, JAN1, MAR31, today=TODAY)["referral_timeliness"]["by_rule"]["REF-2"]
    assert (late["referrals"], late["on_time"], late["median_days"]) == (1, 0, 20)
