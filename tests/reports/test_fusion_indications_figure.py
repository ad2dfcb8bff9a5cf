"""SX-4 / SX-5: the fusion share of planned surgery, with each indication counted.

A plan with several indications (SX-5: a reoperation names its qualifier) counts under
each, never as one joined code.
"""

from __future__ import annotations

from datetime import date

from episodes import services
from tests.reports.services_data import behind, enrol, figures, on

JAN1, MAR31 = date(2026, 1, 1), date(2026, 3, 31)
DAY = date(2026, 3, 1)  # day 59 of care and of symptoms
READY = {
    "radicular_pain": True,
    "conservative_therapy_failed": True,
    "function_significantly_limited": True,
    "candidate_for_surgery": True,
    "biopsychosocial_assessment_done": True,
}


def _surgery(team, coordinator, clinician, plan: dict):
    episode = enrol(team, coordinator, day=DAY, onset=JAN1, start=JAN1, **READY)
    with on(DAY):
        services.imaging_record(
            episode_id=episode.pk,
            by=clinician,
            performed_on=DAY,
            nerve_root_compression=True,
            clinically_correlated=True,
            level="L5-S1",
        )
        for name, data in (
            ("refer_to_specialist", {"urgency": "routine"}),
            ("begin_surgical_review", {}),
            ("plan_surgery", plan),
        ):
            services.episode_transition(episode_id=episode.pk, name=name, by=clinician, data=data)
    return episode


def test_each_indication_of_a_fusion_is_counted(team, coordinator, clinician):
    reoperation = _surgery(
        team,
        coordinator,
        clinician,
        {
            "procedure": "fusion",
            "fusion_indication": ["recurrent_herniation_reoperation", "instability"],
        },
    )
    _surgery(
        team, coordinator, clinician, {"procedure": "fusion", "fusion_indication": "instability"}
    )
    _surgery(team, coordinator, clinician, {"procedure": "discectomy", "technique": "open"})

    surgery = figures(team, JAN1, MAR31, today=DAY)["surgery"]
    assert surgery == {
        "rules": ["SX-4", "SX-5"],
        "plans": 3,
        "fusions": 2,
        "fusion_share": 0.6667,
        "fusion_indications": {"instability": 2, "recurrent_herniation_reoperation": 1},
    }
    assert reoperation.pk in behind(team, JAN1, MAR31, "fusion", today=DAY)
