"""The adherence report's reads of episodes (PATHWAY.md "Adherence figures"): set queries.

The cohort is a care team's episodes *enrolled* within the date range (patient-local
enrolment dates), followed to today. Each section reads its rows for the whole cohort in
one query and hands them to ``careflow.adherence`` for the arithmetic; nothing here loops
a query per episode. Every figure also keeps the IDs of the episodes behind it, so the
workspace can list them (``figure_episode_ids``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from careflow import rules
from careflow.adherence import (
    Interval,
    Move,
    counts_for_imaging,
    days_in_states,
    education_within_two_weeks,
    finding_date,
    fusion_indications,
    hours_to_referral,
    is_low_value_imaging,
    median,
    month_ends,
    on_time,
    overdue_referral,
    percentile,
    rate,
    referral_rule_group,
    resolved_by_three_months,
    started_by,
    states_on_days,
)
from careflow.careplan import CATALOGUE
from careflow.facts import BOOLEAN_FACTS, Facts
from careflow.guards import FUSION
from careflow.redflags import RedFlag as RedFlagFact
from careflow.states import PRE_REFERRAL_STATES, State
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

REFERRAL_RULES = (rules.REF_1, rules.REF_2, rules.REF_3, rules.RF)
PT_LEVEL_B = frozenset(code for code, item in CATALOGUE.items() if item.rule == rules.CC_4)
EDUCATION = frozenset(code for code, item in CATALOGUE.items() if item.rule == rules.CC_2)


@dataclass(frozen=True, slots=True)
class Scope:
    team_ids: tuple[int, ...]
    start: date
    end: date

    def cohort(self) -> QuerySet[Episode]:
        return Episode.objects.filter(
            care_team_id__in=self.team_ids, enrolled_on__gte=self.start, enrolled_on__lte=self.end
        )


@dataclass
class Figures:
    """The figures as plain data, and the episode IDs behind each (``drill``)."""

    data: dict[str, Any] = field(default_factory=dict)
    drill: dict[str, set[int]] = field(default_factory=dict)


def _local_date(moment: Any, zone: str) -> date:  # noqa: ANN401 - a datetime
    return moment.astimezone(ZoneInfo(zone)).date()


def _flag_intervals(scope: Scope) -> tuple[dict[int, list[Interval]], list[dict[str, Any]]]:
    rows = list(
        RedFlag.objects.filter(episode__in=scope.cohort()).values(
            "episode_id",
            "sign",
            "raised_on",
            "raised_at",
            "status",
            "ruled_out_at",
            "ruled_out_by__username",
            "episode__patient__timezone",
        )
    )
    intervals: dict[int, list[Interval]] = defaultdict(list)
    for row in rows:
        ruled_out = row["ruled_out_at"]
        zone = row["episode__patient__timezone"]
        intervals[row["episode_id"]].append(
            Interval(row["raised_on"], _local_date(ruled_out, zone) if ruled_out else None)
        )
    return intervals, rows


def _imaging(scope: Scope, flags: dict[int, list[Interval]], out: Figures) -> None:
    studies = ImagingStudy.objects.filter(episode__in=scope.cohort()).values_list(
        "episode_id", "performed_on", "episode__conservative_care_start", "episode__symptom_onset"
    )
    total = low = 0
    behind: set[int] = set()
    for episode_id, performed_on, start, onset in studies:
        if not counts_for_imaging(performed_on, onset):
            continue  # an earlier episode's study: neither low value nor one of all studies
        total += 1
        if is_low_value_imaging(performed_on, start, flags.get(episode_id, [])):
            low += 1
            behind.add(episode_id)
    out.data["low_value_imaging"] = {
        "rules": [rules.IM_2, rules.CC_1],
        "studies": total,
        "low_value": low,
        "rate": rate(low, total),
    }
    out.drill["low_value_imaging"] = behind


def _open_overdue(
    scope: Scope, flag_rows: list[dict[str, Any]], now: datetime
) -> dict[str, set[int]]:
    """Open episodes whose referral deadline has passed with no referral, by its rule.

    The referral deadline is careflow's (REF-1..3 and red flags), computed from the
    episode's facts and active flags on the patient's local date: not ``next_deadline``,
    which is the earliest of every deadline and may be the CC-1 reassessment.
    """
    active: dict[int, list[RedFlagFact]] = defaultdict(list)
    for row in flag_rows:
        if row["status"] == RedFlagStatus.ACTIVE:
            active[row["episode_id"]].append(
                RedFlagFact(row["sign"], row["raised_on"], row["raised_at"])
            )
    rows = (
        scope.cohort()
        .filter(state__in=[str(s) for s in PRE_REFERRAL_STATES])
        .values_list(
            "id",
            "state",
            "symptom_onset",
            "conservative_care_start",
            "facts",
            "disabling_pain_recorded_on",
            "neurological_deficit_recorded_on",
            "referral_made_on",
            "referral_made_at",
            "patient__timezone",
        )
    )
    found: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        pk, state, onset, start, current, disabling_on, deficit_on, referred_on, at, zone = row
        facts = Facts(
            symptom_onset=onset,
            conservative_care_start=start,
            **{name: bool((current or {}).get(name, False)) for name in BOOLEAN_FACTS},
            disabling_pain_recorded_on=disabling_on,
            neurological_deficit_recorded_on=deficit_on,
            active_red_flags=tuple(active.get(pk, ())),
            referral_made_on=referred_on,
            referral_made_at=at,
        )
        overdue = overdue_referral(State(state), facts, _local_date(now, zone))
        if overdue is not None:
            found[referral_rule_group(overdue.rule)].add(pk)
    return found


def _referrals(
    scope: Scope, flag_rows: list[dict[str, Any]], now: datetime, out: Figures
) -> list[tuple[int, Any]]:
    rows = list(
        Referral.objects.filter(episode__in=scope.cohort()).values_list(
            "episode_id", "made_on", "due_on", "due_rule", "created_at", "episode__symptom_onset"
        )
    )
    days: dict[str, list[int]] = defaultdict(list)
    met: Counter[str] = Counter()
    late_ids: dict[str, set[int]] = defaultdict(set)
    months: dict[str, list[bool]] = defaultdict(list)
    for episode_id, made_on, due_on, due_rule, _at, onset in rows:
        if due_on is None or not due_rule:
            continue  # a second referral with no deadline open: nothing to be timely against
        group = referral_rule_group(due_rule)
        days[group].append((made_on - finding_date(due_rule, due_on, onset)).days)
        months[made_on.strftime("%Y-%m")].append(on_time(made_on, due_on))
        if on_time(made_on, due_on):
            met[group] += 1
        else:
            late_ids[group].add(episode_id)
    open_overdue = _open_overdue(scope, flag_rows, now)
    section = {}
    for group in REFERRAL_RULES:
        made = len(days[group])
        section[group] = {
            "referrals": made,
            "on_time": met[group],
            "share_on_time": rate(met[group], made),
            "median_days": median(days[group]),
            "p90_days": percentile(days[group], 90),
            "open_overdue": len(open_overdue[group]),
        }
        out.drill[f"referral_late:{group}"] = late_ids[group]
        out.drill[f"referral_overdue:{group}"] = open_overdue[group]
    out.data["referral_timeliness"] = {
        "rules": list(REFERRAL_RULES),
        "by_rule": section,
        # Every rule together, by the month the referral was made: the trend.
        "by_month": [
            {
                "month": month,
                "referrals": len(results),
                "on_time": sum(results),
                "share_on_time": rate(sum(results), len(results)),
            }
            for month, results in sorted(months.items())
        ],
    }
    return [(episode_id, at) for episode_id, _m, _d, _r, at, _o in rows]


def _red_flag_to_referral(
    flag_rows: list[dict[str, Any]], referrals: list[tuple[int, Any]], out: Figures
) -> None:
    referred: dict[int, list[Any]] = defaultdict(list)
    for episode_id, at in referrals:
        referred[episode_id].append(at)
    hours: list[float] = []
    waiting: set[int] = set()
    ruled_out_by: Counter[str] = Counter()
    ruled_out_ids: set[int] = set()
    for row in flag_rows:
        if row["status"] == RedFlagStatus.RULED_OUT:
            ruled_out_by[row["ruled_out_by__username"] or "(unknown)"] += 1
            ruled_out_ids.add(row["episode_id"])
        answered = hours_to_referral(
            row["raised_at"], row["ruled_out_at"], referred.get(row["episode_id"], [])
        )
        if answered is not None:
            hours.append(answered)
        elif row["status"] == RedFlagStatus.ACTIVE:
            waiting.add(row["episode_id"])
    out.data["red_flag_to_referral"] = {
        "rules": [rules.RF],
        "flags": len(flag_rows),
        "referred": len(hours),
        "median_hours": median(hours),
        "p90_hours": percentile(hours, 90),
        "active_without_referral": len(waiting),
        "ruled_out": sum(ruled_out_by.values()),
        "ruled_out_by": dict(sorted(ruled_out_by.items())),
    }
    out.drill["red_flag_waiting"] = waiting
    out.drill["red_flag_ruled_out"] = ruled_out_ids


def _care_plan(
    scope: Scope, episodes: dict[int, dict[str, Any]], now: datetime, out: Figures
) -> None:
    rows = CarePlanItem.objects.filter(episode__in=scope.cohort()).values_list(
        "episode_id", "item", "started_on", "recorded_at", "flags"
    )
    education: dict[int, list[date]] = defaultdict(list)
    therapy: set[int] = set()
    flagged: Counter[str] = Counter()
    flagged_ids: dict[str, set[int]] = defaultdict(set)
    for episode_id, item, started_on, recorded_at, flags in rows:
        zone = episodes[episode_id]["patient__timezone"]
        if item in EDUCATION:
            education[episode_id].append(started_on or _local_date(recorded_at, zone))
        if item in PT_LEVEL_B and started_by(started_on, _local_date(now, zone)):
            therapy.add(episode_id)
        for flag in flags or []:
            rule = flag.get("rule", "")
            flagged[rule] += 1
            flagged_ids[rule].add(episode_id)
    educated = {
        pk
        for pk, days in education.items()
        if education_within_two_weeks(episodes[pk]["enrolled_on"], days)
    }
    total = len(episodes)
    out.data["conservative_care"] = {
        "rules": [rules.CC_2, rules.CC_3, rules.CC_4, rules.RFA_1],
        "episodes": total,
        "education_within_2_weeks": len(educated),
        "education_share": rate(len(educated), total),
        "level_b_physical_therapy": len(therapy),
        "physical_therapy_share": rate(len(therapy), total),
        "items_flagged_cc3": flagged[rules.CC_3],
        "items_flagged_rfa1": flagged[rules.RFA_1],
    }
    out.drill["education_missing"] = set(episodes) - educated
    out.drill["physical_therapy_missing"] = set(episodes) - therapy
    out.drill["flagged_cc3"] = flagged_ids[rules.CC_3]
    out.drill["flagged_rfa1"] = flagged_ids[rules.RFA_1]


def _procedures(scope: Scope, total: int, out: Figures) -> None:
    esi = Counter(
        EsiPlan.objects.filter(episode__in=scope.cohort()).values_list("episode_id", flat=True)
    )
    distribution = Counter(min(n, 3) for n in esi.values())
    surgery = list(
        SurgeryPlan.objects.filter(episode__in=scope.cohort()).values_list(
            "episode_id", "procedure", "fusion_indication"
        )
    )
    fusions = [
        (pk, fusion_indications(ind)) for pk, procedure, ind in surgery if procedure == FUSION
    ]
    indications = Counter(code for _, codes in fusions for code in codes or ["(none)"])
    out.data["esi"] = {
        "rules": [rules.ESI_1, rules.ESI_2, rules.ESI_3],
        "injections": sum(esi.values()),
        "per_episode": rate(sum(esi.values()), total),
        "episodes_with": {
            "0": total - len(esi),
            "1": distribution[1],
            "2": distribution[2],
            "3+": distribution[3],
        },
    }
    out.data["surgery"] = {
        "rules": [rules.SX_4, rules.SX_5],
        "plans": len(surgery),
        "fusions": len(fusions),
        "fusion_share": rate(len(fusions), len(surgery)),
        # Fusions with each indication: a plan naming two counts under both.
        "fusion_indications": dict(sorted(indications.items())),
    }
    out.drill["esi"] = set(esi)
    out.drill["fusion"] = {pk for pk, _ in fusions}


def _flow(scope: Scope, episodes: dict[int, dict[str, Any]], today: date, out: Figures) -> None:
    moves: dict[int, list[Move]] = defaultdict(list)
    for episode_id, on, from_state, to_state in (
        TransitionLog.objects.filter(episode__in=scope.cohort())
        .order_by("at", "id")
        .values_list("episode_id", "evaluated_on", "from_state", "to_state")
    ):
        moves[episode_id].append(Move(on, from_state, to_state))
    histories = [
        (row["enrolled_on"], str(State.CONSERVATIVE_CARE), moves.get(pk, []))
        for pk, row in episodes.items()
    ]
    # The cohort is followed to today: every month's end from the range's start to today.
    days = month_ends(scope.start, today)
    over_time = [
        {"on": day.isoformat(), "states": states}
        for day, states in zip(days, states_on_days(days, histories), strict=True)
    ]
    stays: dict[str, list[int]] = defaultdict(list)
    for enrolled_on, initial, episode_moves in histories:
        for state, days in days_in_states(enrolled_on, initial, episode_moves):
            stays[state].append(days)
    resolved = set()
    for pk, row in episodes.items():
        resolved_on = next((m.on for m in moves.get(pk, []) if m.to_state == State.RESOLVED), None)
        if resolved_by_three_months(row["symptom_onset"], resolved_on):
            resolved.add(pk)
    out.data["flow"] = {
        "rules": [rules.REF_1],
        "episodes": len(episodes),
        "states_over_time": over_time,
        "days_in_state": {
            state: {"stays": len(v), "median_days": median(v), "p90_days": percentile(v, 90)}
            for state, v in sorted(stays.items())
        },
        "resolved_by_3_months": len(resolved),
        "resolved_share": rate(len(resolved), len(episodes)),
    }
    out.drill["resolved_by_3_months"] = resolved
    out.drill["cohort"] = set(episodes)


def episode_figures(
    scope: Scope, today: date | None = None, now: datetime | None = None
) -> Figures:
    """Every figure read from episodes: eight queries whatever the cohort's size."""
    now = now or timezone.now()
    today = today or timezone.localdate()
    out = Figures()
    episodes = {
        row["id"]: row
        for row in scope.cohort().values(
            "id", "enrolled_on", "symptom_onset", "conservative_care_start", "patient__timezone"
        )
    }
    intervals, flag_rows = _flag_intervals(scope)
    _imaging(scope, intervals, out)
    referrals = _referrals(scope, flag_rows, now, out)
    _red_flag_to_referral(flag_rows, referrals, out)
    _care_plan(scope, episodes, now, out)
    _procedures(scope, len(episodes), out)
    _flow(scope, episodes, today, out)
    return out
