"""The facts an episode carries, as the guideline functions see them (no ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any

from careflow.dates import days_between
from careflow.redflags import RedFlag

# The boolean clinical facts a user records through an assessment (PATHWAY.md "Facts").
BOOLEAN_FACTS: tuple[str, ...] = (
    "radicular_pain",
    "new_onset_pain",
    "disabling_pain",
    "neurological_deficit",
    "conservative_therapy_failed",
    "function_significantly_limited",
    "candidate_for_esi",
    "candidate_for_surgery",
    "biopsychosocial_assessment_done",
)


@dataclass(frozen=True, slots=True)
class ImagingFinding:
    modality: str
    performed_on: date
    nerve_root_compression: bool
    clinically_correlated: bool
    level: str = ""


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the guards evaluate: the current value of each fact, and their dates."""

    symptom_onset: date
    conservative_care_start: date
    birth_date: date | None = None
    radicular_pain: bool = False
    new_onset_pain: bool = False
    disabling_pain: bool = False
    neurological_deficit: bool = False
    conservative_therapy_failed: bool = False
    function_significantly_limited: bool = False
    candidate_for_esi: bool = False
    candidate_for_surgery: bool = False
    biopsychosocial_assessment_done: bool = False
    # The date each REF-relevant fact was (most recently) recorded true.
    disabling_pain_recorded_on: date | None = None
    neurological_deficit_recorded_on: date | None = None
    active_red_flags: tuple[RedFlag, ...] = ()
    imaging: tuple[ImagingFinding, ...] = ()
    referral_made_on: date | None = None
    # The moment of the latest referral: a flag raised after it sets a new deadline.
    referral_made_at: datetime | None = None
    education_recorded: bool = False
    # The latest assessment a clinician of the care team recorded (CC-1's reassessment);
    # a patient's check-in answers and a coordinator's entries update facts, not this.
    last_assessment_on: date | None = None
    enrolled_on: date | None = None
    resolution_reported_on: date | None = None
    # URG-1: the surgical review was opened while a red flag was active; once every flag is
    # ruled out, plan_surgery checks the elective gates that were waived (PATHWAY.md).
    surgical_review_urgent: bool = False
    # A red-flag symptom a patient reported that no clinician has reviewed yet (a symptom
    # whose flag was already active, or reported on a closed episode): the patient-local
    # date of the earliest such report and the most severe category among them.
    unreviewed_report_on: date | None = None
    unreviewed_report_rule: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_active_red_flag(self) -> bool:
        return bool(self.active_red_flags)

    def raised_after_referral(self, flag: RedFlag) -> bool:
        """Whether ``flag`` was raised after the episode's referral (or there is none).

        Moments, not dates (PATHWAY.md "Facts change over time"): a flag raised in the
        afternoon after a morning referral is raised after it, one raised in the morning
        before an afternoon referral is not. Facts logged before moments were kept compare
        dates, counting the same day as after (the reading that keeps the flag's deadline).
        """
        if self.referral_made_on is None:
            return True
        if flag.raised_at is not None and self.referral_made_at is not None:
            # The same instant counts as after: the reading that keeps the flag's deadline.
            return flag.raised_at >= self.referral_made_at
        return flag.raised_on >= self.referral_made_on

    def days_since_onset(self, today: date) -> int:
        return days_between(self.symptom_onset, today)

    def days_of_conservative_care(self, today: date) -> int:
        return days_between(self.conservative_care_start, today)

    def current_imaging(self) -> tuple[ImagingFinding, ...]:
        """Imaging of this episode, not of an earlier one.

        A study dated before ``symptom_onset`` documents an earlier episode and satisfies
        neither SX-1 nor SX-3 (PATHWAY.md "Facts change over time").
        """
        return tuple(s for s in self.imaging if s.performed_on >= self.symptom_onset)

    def compression_on_imaging(self) -> bool:
        return any(study.nerve_root_compression for study in self.current_imaging())

    def correlated_compression(self) -> bool:
        return any(
            s.nerve_root_compression and s.clinically_correlated for s in self.current_imaging()
        )

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy, stored with every transition so decisions can be explained later."""

        def encode(value: Any) -> Any:  # noqa: ANN401 - walks the dataclasses' values
            # ``asdict`` then this walk, in one: ``asdict`` deep-copied every value first.
            if isinstance(value, date):
                return value.isoformat()
            if is_dataclass(value) and not isinstance(value, type):
                return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
            if isinstance(value, dict):
                return {k: encode(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [encode(v) for v in value]
            return value

        return encode(self)

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> Facts:
        """The facts a transition was evaluated on, back from its log row's snapshot."""

        def day(value: str | None) -> date | None:
            return None if value is None else date.fromisoformat(value)

        def moment(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        values = dict(snapshot)
        for name in _DATE_FIELDS:
            values[name] = day(values.get(name))
        for name in _DATETIME_FIELDS:
            values[name] = moment(values.get(name))
        values["active_red_flags"] = tuple(
            RedFlag(
                sign=f["sign"],
                raised_on=date.fromisoformat(f["raised_on"]),
                raised_at=moment(f.get("raised_at")),
            )
            for f in snapshot.get("active_red_flags", ())
        )
        values["imaging"] = tuple(
            ImagingFinding(**{**s, "performed_on": date.fromisoformat(s["performed_on"])})
            for s in snapshot.get("imaging", ())
        )
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


_DATE_FIELDS: tuple[str, ...] = (
    "symptom_onset",
    "conservative_care_start",
    "birth_date",
    "disabling_pain_recorded_on",
    "neurological_deficit_recorded_on",
    "referral_made_on",
    "last_assessment_on",
    "enrolled_on",
    "resolution_reported_on",
    "unreviewed_report_on",
)
_DATETIME_FIELDS: tuple[str, ...] = ("referral_made_at",)
