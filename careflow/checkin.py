"""Patient check-in answers mapped to facts and red-flag signs (PATHWAY.md "check-in")."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from careflow.redflags import Sign


class Overall(StrEnum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    RESOLVED = "resolved"


class Symptom(StrEnum):
    BLADDER_OR_BOWEL_PROBLEMS = "bladder_or_bowel_problems"
    SADDLE_NUMBNESS = "saddle_numbness"
    WORSENING_LEG_WEAKNESS = "worsening_leg_weakness"
    FEVER = "fever"


SIGNS_OF_SYMPTOM: Final[dict[Symptom, tuple[Sign, ...]]] = {
    Symptom.BLADDER_OR_BOWEL_PROBLEMS: (Sign.INCONTINENCE, Sign.URINARY_RETENTION),
    Symptom.SADDLE_NUMBNESS: (Sign.SADDLE_ANESTHESIA,),
    Symptom.WORSENING_LEG_WEAKNESS: (Sign.PROGRESSIVE_MOTOR_DEFICIT,),
    Symptom.FEVER: (Sign.FEVER,),
}


def signs_for(symptoms: list[str]) -> list[Sign]:
    """The red-flag signs a patient's reported symptoms raise, in catalogue order."""
    found = {sign for s in symptoms for sign in SIGNS_OF_SYMPTOM[Symptom(s)]}
    return [sign for sign in Sign if sign in found]
