"""The conservative care plan catalogue (CC-2, CC-3, CC-4, RFA-1, RFA-2).

Concerns are flags shown to the care team, never refusals: a plan that lists a drug with
negative trials is recorded and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from careflow import rules
from careflow.guards import Reason


class Category(StrEnum):
    EDUCATION = "education"
    MEDICATION = "medication"
    PHYSICAL_THERAPY = "physical_therapy"
    INTERVENTIONAL = "interventional"


@dataclass(frozen=True, slots=True)
class PlanItem:
    code: str
    category: Category
    rule: str
    evidence: str


_NEGATIVE_TRIAL = "negative trials in lumbosacral radiculopathy: flagged, not refused"
_LEVEL_B = "moderate (Level B) evidence of effectiveness"

CATALOGUE: Final[dict[str, PlanItem]] = {
    item.code: item
    for item in (
        PlanItem(
            "natural_history_education",
            Category.EDUCATION,
            rules.CC_2,
            "most disc herniations regress by 8 weeks; disc abnormalities are common "
            "without symptoms (29-43%)",
        ),
        PlanItem(
            "stay_active_advice",
            Category.EDUCATION,
            rules.CC_2,
            "stay active rather than bed rest, modifying activity as needed",
        ),
        PlanItem("nsaid", Category.MEDICATION, rules.CC_3, "NSAIDs for pain control"),
        PlanItem("muscle_relaxant", Category.MEDICATION, rules.CC_3, "muscle relaxants for spasm"),
        PlanItem(
            "opioid_short_term",
            Category.MEDICATION,
            rules.CC_3,
            "short-term opioids, judiciously, for severe pain only",
        ),
        PlanItem("nortriptyline", Category.MEDICATION, rules.CC_3, _NEGATIVE_TRIAL),
        PlanItem("pregabalin", Category.MEDICATION, rules.CC_3, _NEGATIVE_TRIAL),
        PlanItem("topiramate", Category.MEDICATION, rules.CC_3, _NEGATIVE_TRIAL),
        PlanItem("morphine", Category.MEDICATION, rules.CC_3, _NEGATIVE_TRIAL),
        PlanItem("core_stabilization", Category.PHYSICAL_THERAPY, rules.CC_4, _LEVEL_B),
        PlanItem("mckenzie", Category.PHYSICAL_THERAPY, rules.CC_4, _LEVEL_B),
        PlanItem("mobilization_manipulation", Category.PHYSICAL_THERAPY, rules.CC_4, _LEVEL_B),
        PlanItem("neural_mobilization", Category.PHYSICAL_THERAPY, rules.CC_4, _LEVEL_B),
        PlanItem(
            "radiofrequency_ablation",
            Category.INTERVENTIONAL,
            rules.RFA_1,
            "weak option for chronic low back pain with facet involvement after positive "
            "medial branch blocks",
        ),
        PlanItem(
            "pulsed_radiofrequency_drg",
            Category.INTERVENTIONAL,
            rules.RFA_2,
            "may be considered for chronic lumbosacral radicular pain",
        ),
    )
}

NEGATIVE_TRIAL_DRUGS: Final = frozenset({"nortriptyline", "pregabalin", "topiramate", "morphine"})


def plan_item_flags(
    code: str, *, ended_on: date | None, positive_medial_branch_block: bool = False
) -> list[Reason]:
    """CC-3 and RFA-1 concerns on a plan item; ``KeyError`` for an item not in the catalogue."""
    item = CATALOGUE[code]
    if code in NEGATIVE_TRIAL_DRUGS:
        return [
            Reason(
                rules.CC_3,
                f"{code} had negative trials for lumbosacral radiculopathy; reconsider",
            )
        ]
    if code == "opioid_short_term" and ended_on is None:
        return [
            Reason(rules.CC_3, "opioids are for short-term use only: give the course an end date")
        ]
    if item.rule == rules.RFA_1 and not positive_medial_branch_block:
        return [
            Reason(
                rules.RFA_1,
                "radiofrequency ablation is only an option after positive medial branch blocks",
            )
        ]
    return []
