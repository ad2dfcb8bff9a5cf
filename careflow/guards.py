"""Every transition's guard: facts and a date in, the list of failing reasons out.

An empty list means the guard passes. A failing guard names every rule that failed, each
with a sentence a coordinator understands, the actual numbers, and for a time gate the
date on which it opens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from careflow import rules
from careflow.dates import SIX_WEEKS_DAYS
from careflow.facts import Facts, ImagingFinding
from careflow.redflags import CATEGORY_LABEL, CATEGORY_OF_SIGN, RedFlag
from careflow.states import TransitionName

FLUOROSCOPIC: Final = "fluoroscopic"
ESI_APPROACHES: Final = ("interlaminar", "transforaminal")
DISCECTOMY: Final = "discectomy"
FUSION: Final = "fusion"
DISCECTOMY_TECHNIQUES: Final = ("open", "microtubular", "endoscopic")
FUSION_INDICATIONS: Final = (
    "chronic_axial_pain",
    "manual_laborer",
    "severe_degeneration",
    "instability",
    "recurrent_herniation_reoperation",
)
RECURRENT_HERNIATION_REOPERATION: Final = "recurrent_herniation_reoperation"


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    message: str
    opens_on: date | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"rule": self.rule, "message": self.message}
        if self.opens_on is not None:
            out["opens_on"] = self.opens_on.isoformat()
        return out


# ``data`` is the transition's own body (guidance, procedure, ...). ``None`` previews the
# guard without a body (the API's ``available_transitions``): the parts that depend on what
# the client will send are left out, the parts that depend on facts and dates are not.
Guard = Callable[[Facts, date, Mapping[str, Any] | None], list[Reason]]


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _conservative_care_days(facts: Facts, today: date, rule: str, what: str) -> list[Reason]:
    days = facts.days_of_conservative_care(today)
    if days >= SIX_WEEKS_DAYS:
        return []
    opens = facts.conservative_care_start + timedelta(days=SIX_WEEKS_DAYS)
    return [
        Reason(
            rule,
            f"{what} needs {SIX_WEEKS_DAYS} days of conservative care; this episode has "
            f"{_days(days)}: eligible on {opens.isoformat()}",
            opens,
        )
    ]


def _active_flags_text(facts: Facts) -> str:
    return ", ".join(
        f"{f.sign} ({f.category} {CATEGORY_LABEL[f.category]})" for f in facts.active_red_flags
    )


def escalate_gate(facts: Facts, _today: date, _data: Mapping[str, Any] | None) -> list[Reason]:
    """Escalation needs an active red flag (RF-1..RF-5)."""
    if facts.has_active_red_flag:
        return []
    return [Reason(rules.RF, "escalation needs an active red flag; this episode has none")]


def clear_escalation_gate(
    facts: Facts, _today: date, _data: Mapping[str, Any] | None
) -> list[Reason]:
    """Leaving urgent escalation needs every red flag ruled out (clinician only).

    It returns to specialist care when a referral has been made, else to conservative
    care (``TransitionSpec.target_for``).
    """
    if not facts.has_active_red_flag:
        return []
    count = len(facts.active_red_flags)
    return [
        Reason(
            rules.RF,
            f"every red flag must be ruled out first; {count} still active: "
            f"{_active_flags_text(facts)}",
        )
    ]


def imaging_gate(facts: Facts, today: date, _data: Mapping[str, Any] | None) -> list[Reason]:
    """CC-1 / IM-2 (42 days) and IM-1 (failed therapy, ESI or surgical candidate).

    URG-1: an active red flag makes imaging urgent and waives all three.
    """
    if facts.has_active_red_flag:
        return []
    reasons = _conservative_care_days(facts, today, rules.CC_1, "imaging")
    if reasons:
        reasons.append(
            Reason(
                rules.IM_2,
                "no imaging before day 42 of conservative care unless a red flag is active",
                reasons[0].opens_on,
            )
        )
    if not facts.conservative_therapy_failed:
        reasons.append(
            Reason(rules.IM_1, "MRI needs conservative therapy to have failed; not recorded")
        )
    if not (facts.candidate_for_esi or facts.candidate_for_surgery):
        reasons.append(
            Reason(
                rules.IM_1,
                "MRI is only for a potential ESI or surgical candidate; neither is recorded",
            )
        )
    return reasons


def esi_gate(facts: Facts, today: date, data: Mapping[str, Any] | None) -> list[Reason]:
    """ESI-1 (42 days, failed therapy, consent), ESI-2 (fluoroscopic), ESI-3 (radicular).

    Never waived by a red flag: an injection is never the urgent treatment (URG-1).
    """
    reasons = _conservative_care_days(facts, today, rules.ESI_1, "an epidural steroid injection")
    if not facts.conservative_therapy_failed:
        reasons.append(
            Reason(rules.ESI_1, "an ESI needs conservative therapy to have failed; not recorded")
        )
    if data is not None and data.get("patient_consented") is not True:
        reasons.append(
            Reason(rules.ESI_1, "an ESI is the patient's choice: their consent is not recorded")
        )
    guidance = None if data is None else data.get("guidance")
    if data is not None and guidance != FLUOROSCOPIC:
        shown = guidance or "none given"
        reasons.append(
            Reason(
                rules.ESI_2,
                f"an ESI needs fluoroscopic guidance; blind injections are refused (got {shown})",
            )
        )
    if data is not None and data.get("approach") not in ESI_APPROACHES:
        reasons.append(
            Reason(rules.ESI_2, "an ESI needs an interlaminar or transforaminal approach")
        )
    if not facts.radicular_pain:
        reasons.append(
            Reason(
                rules.ESI_3,
                "an ESI is not for non-radicular axial back pain; radicular pain is not recorded",
            )
        )
    return reasons


def _elective_review_reasons(facts: Facts, today: date) -> list[Reason]:
    """The elective gates of surgical review, all of which URG-1 waives while a flag is active.

    CC-1 (42 days of conservative care), SX-1's elective conditions (persistent radicular
    symptoms despite failed therapy, more than 42 days since onset, function significantly
    limited) and SX-2 (biopsychosocial assessment).
    """
    reasons: list[Reason] = []
    if not facts.radicular_pain:
        reasons.append(
            Reason(rules.SX_1, "surgical review needs persistent radicular symptoms; none recorded")
        )
    if not facts.conservative_therapy_failed:
        reasons.append(
            Reason(
                rules.SX_1,
                "surgical review needs symptoms persisting despite non-invasive therapy; "
                "failed conservative therapy is not recorded",
            )
        )
    days = facts.days_since_onset(today)
    if days <= SIX_WEEKS_DAYS:
        opens = facts.symptom_onset + timedelta(days=SIX_WEEKS_DAYS + 1)
        reasons.append(
            Reason(
                rules.SX_1,
                f"surgical review needs symptoms for more than {SIX_WEEKS_DAYS} days; this "
                f"episode has {_days(days)} since onset: eligible on {opens.isoformat()}",
                opens,
            )
        )
    # CC-1 covers "imaging or any interventional procedure": surgery is one. The seed
    # ("conservative therapy for at least 6 weeks is mandatory before considering imaging
    # or interventional procedures") wins over PATHWAY.md's transition table, which lists
    # only SX-1..3 for this transition.
    reasons.extend(_conservative_care_days(facts, today, rules.CC_1, "surgical review"))
    if not facts.function_significantly_limited:
        reasons.append(
            Reason(rules.SX_1, "surgical review needs function to be significantly limited")
        )
    if not facts.biopsychosocial_assessment_done:
        reasons.append(
            Reason(rules.SX_2, "a biopsychosocial assessment is needed before surgical review")
        )
    return reasons


def surgical_review_gate(
    facts: Facts, today: date, _data: Mapping[str, Any] | None
) -> list[Reason]:
    """SX-1, SX-2, SX-3 and CC-1; URG-1 waives the elective parts while a red flag is active.

    Never waived: nerve-root compression on imaging (SX-1) and its clinical correlation
    (SX-3). Cauda equina syndrome may present without leg pain, so URG-1 waives persistent
    radicular symptoms too.
    """
    reasons = [] if facts.has_active_red_flag else _elective_review_reasons(facts, today)
    if not facts.compression_on_imaging():
        reasons.append(
            Reason(
                rules.SX_1,
                "surgical review needs nerve-root compression documented on imaging of this "
                "episode (a study dated before symptom onset does not count)",
            )
        )
    if facts.compression_on_imaging() and not facts.correlated_compression():
        reasons.append(
            Reason(
                rules.SX_3,
                "the imaging compression is not clinically correlated with the symptoms",
            )
        )
    return reasons


def fusion_indications_of(value: object) -> list[str]:
    """``fusion_indication`` as sent: one code or a list of codes (SX-5)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _fusion_indicated(indications: list[str]) -> bool:
    """SX-5: any one listed indication that holds is enough, and only listed codes are sent.

    A reoperation for recurrent herniation counts only together with instability or chronic
    axial pain (the seed's "associated with instability or chronic axial low back pain"),
    which are indications of their own: alone it counts for nothing, and it never cancels
    another indication in the same plan (``manual_laborer`` with it is a fusion indicated).
    """
    known = [i for i in indications if i in FUSION_INDICATIONS]
    if len(known) != len(indications):
        return False
    return any(i != RECURRENT_HERNIATION_REOPERATION for i in known)


def _procedure_reasons(data: Mapping[str, Any]) -> list[Reason]:
    procedure = data.get("procedure")
    if procedure == DISCECTOMY:
        if data.get("technique") in DISCECTOMY_TECHNIQUES:
            return []
        return [
            Reason(
                rules.SX_4,
                "a discectomy needs its technique: open, microtubular or endoscopic",
            )
        ]
    if procedure == FUSION:
        if _fusion_indicated(fusion_indications_of(data.get("fusion_indication"))):
            return []
        return [
            Reason(
                rules.SX_5,
                "fusion is not routine after discectomy; it needs one documented indication: "
                + ", ".join(i for i in FUSION_INDICATIONS if i != RECURRENT_HERNIATION_REOPERATION)
                + f", or {RECURRENT_HERNIATION_REOPERATION} together with instability or "
                "chronic_axial_pain",
            )
        ]
    return [Reason(rules.SX_4, "the procedure must be a discectomy (or a fusion per SX-5)")]


def plan_surgery_gate(facts: Facts, today: date, data: Mapping[str, Any] | None) -> list[Reason]:
    """SX-4 (discectomy alone, with its technique) and SX-5 (fusion only with an indication).

    URG-1 lasts only while a flag is active: a review opened under it whose flags have all
    been ruled out meets the elective gates of ``begin_surgical_review`` here (CC-1, SX-1,
    SX-2) before surgery is planned.
    """
    reasons: list[Reason] = []
    if facts.surgical_review_urgent and not facts.has_active_red_flag:
        lapsed = f"the urgent waiver ({rules.URG_1}) lapsed when every red flag was ruled out: "
        reasons.extend(
            Reason(r.rule, lapsed + r.message, r.opens_on)
            for r in _elective_review_reasons(facts, today)
        )
    if data is not None:
        reasons.extend(_procedure_reasons(data))
    return reasons


URGENCY_ORDER: Final = ("routine", "within_2_weeks", "immediate")


def required_referral_urgency(facts: Facts) -> tuple[str, str] | None:
    """The least urgency a referral may have now, and the rule that asks for it.

    An active red flag or REF-3 (neurological deficit): ``immediate``; REF-2 (disabling
    pain): at least ``within_2_weeks``; otherwise any (``None``).
    """
    if facts.has_active_red_flag:
        return "immediate", facts.active_red_flags[0].category
    if facts.neurological_deficit:
        return "immediate", rules.REF_3
    if facts.disabling_pain:
        return "within_2_weeks", rules.REF_2
    return None


def referral_gate(facts: Facts, _today: date, data: Mapping[str, Any] | None) -> list[Reason]:
    """Referral is never blocked, but never of lower urgency than the rules ask for."""
    required = required_referral_urgency(facts)
    if data is None or required is None:
        return []
    urgency, rule = required
    sent = data.get("urgency")
    if sent in URGENCY_ORDER and URGENCY_ORDER.index(sent) >= URGENCY_ORDER.index(urgency):
        return []
    why = {
        rules.REF_2: "disabling pain is recorded",
        rules.REF_3: "a neurological deficit is recorded",
    }.get(rule, f"a red flag is active: {_active_flags_text(facts)}")
    return [
        Reason(
            rule,
            f"the referral must be {urgency} because {why}; a {sent or 'missing'} urgency is "
            "refused (the referral with the right urgency is never blocked)",
        )
    ]


def resolve_gate(facts: Facts, _today: date, _data: Mapping[str, Any] | None) -> list[Reason]:
    """An episode with an active red flag is not resolved: rule the flags out first."""
    if not facts.has_active_red_flag:
        return []
    return [
        Reason(
            rules.RF,
            "an episode with an active red flag cannot be resolved; a clinician rules the "
            f"flags out first: {_active_flags_text(facts)}",
        )
    ]


def refractory_gate(facts: Facts, _today: date, _data: Mapping[str, Any] | None) -> list[Reason]:
    """RX-1: failed back surgery syndrome with therapy-resistant radicular pain."""
    if facts.radicular_pain:
        return []
    return [
        Reason(
            rules.RX_1,
            "the refractory pathway is for therapy-resistant radicular pain after surgery; "
            "radicular pain is not recorded",
        )
    ]


def no_guard(_facts: Facts, _today: date, _data: Mapping[str, Any] | None) -> list[Reason]:
    return []


GUARDS: Final[dict[TransitionName, Guard]] = {
    TransitionName.ESCALATE: escalate_gate,
    TransitionName.CLEAR_ESCALATION: clear_escalation_gate,
    TransitionName.CONFIRM_IMAGING_ELIGIBILITY: imaging_gate,
    TransitionName.SCHEDULE_ESI: esi_gate,
    TransitionName.REFER_TO_SPECIALIST: referral_gate,
    TransitionName.BEGIN_SURGICAL_REVIEW: surgical_review_gate,
    TransitionName.DECLINE_SURGERY: no_guard,
    TransitionName.PLAN_SURGERY: plan_surgery_gate,
    TransitionName.DECLARE_REFRACTORY: refractory_gate,
    TransitionName.RESOLVE: resolve_gate,
    TransitionName.CLOSE: no_guard,
}


def evaluate(
    name: TransitionName | str, facts: Facts, today: date, data: Mapping[str, Any] | None = None
) -> list[Reason]:
    """Every failing reason of a transition's guard (empty when it may proceed)."""
    return GUARDS[TransitionName(name)](facts, today, data)


# Facts on which every guard fails every rule it can cite: once with nothing recorded (the
# elective gates), once with a red flag and uncorrelated compression (the escalation and
# correlation rules), each with an empty body and with a fusion without an indication; then
# one active flag of each category, a neurological deficit and disabling pain (the referral
# urgency each asks for: RF-1..RF-5, REF-3, REF-2), and a surgical review opened under URG-1
# whose flags were all ruled out (plan_surgery's lapsed waiver: CC-1, SX-1, SX-2).
_PROBE_DAY: Final = date(2001, 1, 1)


def _probe(**facts: Any) -> Facts:
    return Facts(symptom_onset=_PROBE_DAY, conservative_care_start=_PROBE_DAY, **facts)


def _probes() -> tuple[tuple[Facts, dict[str, Any]], ...]:
    flag = RedFlag(sign="fever", raised_on=_PROBE_DAY)
    uncorrelated = ImagingFinding(
        "mri", _PROBE_DAY, nerve_root_compression=True, clinically_correlated=False
    )
    one_sign_per_category = {category: sign for sign, category in CATEGORY_OF_SIGN.items()}
    return (
        (_probe(), {}),
        (_probe(active_red_flags=(flag,), imaging=(uncorrelated,)), {"procedure": FUSION}),
        *(
            (_probe(active_red_flags=(RedFlag(sign=sign, raised_on=_PROBE_DAY),)), {})
            for sign in one_sign_per_category.values()
        ),
        (_probe(neurological_deficit=True), {}),
        (_probe(disabling_pain=True), {}),
        (_probe(surgical_review_urgent=True), {}),
    )


def citable_rules(name: TransitionName | str) -> tuple[str, ...]:
    """The rule IDs a transition's guard can refuse it with, in the order it reports them.

    Asked of the guard itself on facts that fail everything it checks, so a rule added to a
    guard is found without a list kept by hand (the pathway picture, the FHIR PlanDefinition).
    """
    found: list[str] = []
    for facts, data in _probes():
        for reason in evaluate(name, facts, _PROBE_DAY, data):
            if reason.rule not in found:
                found.append(reason.rule)
    return tuple(found)


def waived_by_red_flag(name: TransitionName | str) -> bool:
    """URG-1: an active red flag lifts some of what the guard asks without one."""
    later = _PROBE_DAY + timedelta(days=1)
    without = {r.rule for r in evaluate(name, _probe(), later, {})}
    flag = RedFlag(sign="saddle_anesthesia", raised_on=_PROBE_DAY)
    with_flag = {r.rule for r in evaluate(name, _probe(active_red_flags=(flag,)), later, {})}
    return with_flag < without
