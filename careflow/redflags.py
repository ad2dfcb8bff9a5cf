"""The red-flag catalogue (PATHWAY.md "Red flags"): sign -> category RF-1..RF-5."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from careflow import rules
from careflow.dates import older_than


class Sign(StrEnum):
    URINARY_RETENTION = "urinary_retention"
    INCONTINENCE = "incontinence"
    BILATERAL_LEG_WEAKNESS = "bilateral_leg_weakness"
    SADDLE_ANESTHESIA = "saddle_anesthesia"
    PROGRESSIVE_MOTOR_DEFICIT = "progressive_motor_deficit"
    HISTORY_OF_CANCER = "history_of_cancer"
    UNEXPLAINED_WEIGHT_LOSS = "unexplained_weight_loss"
    AGE_OVER_50_NEW_ONSET = "age_over_50_new_onset"
    FEVER = "fever"
    IV_DRUG_USE = "iv_drug_use"
    IMMUNOSUPPRESSION = "immunosuppression"
    SIGNIFICANT_TRAUMA = "significant_trauma"
    OSTEOPOROSIS = "osteoporosis"
    PROLONGED_CORTICOSTEROIDS = "prolonged_corticosteroids"


CATEGORY_OF_SIGN: Final[dict[Sign, str]] = {
    Sign.URINARY_RETENTION: rules.RF_1,
    Sign.INCONTINENCE: rules.RF_1,
    Sign.BILATERAL_LEG_WEAKNESS: rules.RF_1,
    Sign.SADDLE_ANESTHESIA: rules.RF_1,
    Sign.PROGRESSIVE_MOTOR_DEFICIT: rules.RF_2,
    Sign.HISTORY_OF_CANCER: rules.RF_3,
    Sign.UNEXPLAINED_WEIGHT_LOSS: rules.RF_3,
    Sign.AGE_OVER_50_NEW_ONSET: rules.RF_3,
    Sign.FEVER: rules.RF_4,
    Sign.IV_DRUG_USE: rules.RF_4,
    Sign.IMMUNOSUPPRESSION: rules.RF_4,
    Sign.SIGNIFICANT_TRAUMA: rules.RF_5,
    Sign.OSTEOPOROSIS: rules.RF_5,
    Sign.PROLONGED_CORTICOSTEROIDS: rules.RF_5,
}

CATEGORY_LABEL: Final[dict[str, str]] = {
    rules.RF_1: "cauda equina syndrome",
    rules.RF_2: "progressive motor deficit",
    rules.RF_3: "suspected malignancy",
    rules.RF_4: "suspected infection",
    rules.RF_5: "fracture",
}

# Signs the system derives from other facts; users do not type them.
DERIVED_SIGNS: Final = frozenset({Sign.AGE_OVER_50_NEW_ONSET})
RF3_AGE_THRESHOLD: Final = 50


def category_of(sign: str) -> str:
    """The RF category of a sign; ``KeyError`` for a sign not in the catalogue."""
    return CATEGORY_OF_SIGN[Sign(sign)]


def is_known_sign(sign: str) -> bool:
    return sign in Sign.__members__.values()


@dataclass(frozen=True, slots=True)
class RedFlag:
    """An active red flag as the guards see it.

    ``raised_on`` is the patient-local date (deadlines count days from it); ``raised_at``
    the moment, for "before" and "after" another event (PATHWAY.md: moments, not dates).
    It is None only in facts logged before moments were kept.
    """

    sign: str
    raised_on: date
    raised_at: datetime | None = None

    @property
    def category(self) -> str:
        return category_of(self.sign)


def derived_signs(
    *, birth_date: date | None, symptom_onset: date, new_onset_pain: bool
) -> set[Sign]:
    """RF-3: older than 50 at symptom onset with new-onset pain: ``age_over_50_new_onset``.

    "Older than 50 years" counts from the day after the 50th birthday, not from the 51st
    (PATHWAY.md: a patient of 50 years and 3 months qualifies).
    """
    signs: set[Sign] = set()
    if (
        birth_date is not None
        and new_onset_pain
        and older_than(birth_date, symptom_onset, RF3_AGE_THRESHOLD)
    ):
        signs.add(Sign.AGE_OVER_50_NEW_ONSET)
    return signs
