"""The adherence report's reads of episodes (PATHWAY.md "Adherence figures"): set queries.

The cohort is a care team's episodes *enrolled* within the date range (patient-local
enrolment dates), followed to today. Each section reads its rows for the whole cohort in
one query and counts them into a ``Tally`` (``careflow.adherence``), from which
``figures_from_tally`` draws every figure; nothing here loops a query per episode. A tally
adds up across cohorts, so a report may add stored monthly tallies to the rows it reads
(``reports.rollups``) and draw the same figures. Every figure also keeps the IDs of the
episodes behind it, so the workspace can list them (``figure_episode_ids``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from careflow import rules
from careflow.adherence import (
    Interval,
    Move,
    Tally,
    counts_for_imaging,
    days_in_states,
    education_within_two_weeks,
    finding_date,
    fusion_indications,
    hours_to_referral,
    is_low_value_imaging,
    month_ends,
    on_time,
    percentile_of_counts,
    rate,
    referral_deadline,
    referral_rule_group,
    resolved_by_three_months,
    started_by,
    state_changes,
    states_from_changes,
)
from careflow.careplan import CATALOGUE
from careflow.deadlines import SPECIALIST_REFERRAL, Deadline
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
UNKNOWN_USER = "(unknown)"


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
    """What a cohort's rows add up to, and the figures made from it.

    ``tally``: the counts every figure is computed from (``careflow.adherence.Tally``), which
    add up across cohorts (a stored month's and the rows read now); ``data``: the figures as
    plain data; ``drill``: the episode IDs behind each figure; ``usernames``: the names of
    the users the tally counts by id (a user renamed since is shown by today's name).
    """

    data: dict[str, Any] = field(default_factory=dict)
    drill: dict[str, set[int]] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    usernames: dict[int, str] = field(default_factory=dict)


def _local_date(moment: Any, zone: str) -> date:  # noqa: ANN401 - a datetime
    return moment.astimezone(ZoneInfo(zone)).date()


class _Today:
    """The patient-local date of one moment, per time zone (each zone converted once)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.zones: dict[str, date] = {}

    def __call__(self, zone: str) -> date:
        if zone not in self.zones:
            self.zones[zone] = _local_date(self.now, zone)
        return self.zones[zone]


def _flag_intervals(
    cohort: QuerySet[Episode], out: Figures
) -> tuple[dict[int, list[Interval]], list[dict[str, Any]]]:
    rows = list(
        RedFlag.objects.filter(episode__in=cohort).values(
            "episode_id",
            "sign",
            "raised_on",
            "raised_at",
            "status",
            "ruled_out_at",
            "ruled_out_by_id",
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
        if row["ruled_out_by_id"] is not None:
            out.usernames[row["ruled_out_by_id"]] = row["ruled_out_by__username"]
    return intervals, rows


def _imaging(cohort: QuerySet[Episode], flags: dict[int, list[Interval]], out: Figures) -> None:
    studies = ImagingStudy.objects.filter(episode__in=cohort).values_list(
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
    out.tally.add("imaging.studies", n=total)
    out.tally.add("imaging.low_value", n=low)
    out.drill["low_value_imaging"] = behind


def _imaging_figures(tally: Tally) -> dict[str, Any]:
    total, low = tally.total("imaging.studies"), tally.total("imaging.low_value")
    return {
        "rules": [rules.IM_2, rules.CC_1],
        "studies": total,
        "low_value": low,
        "rate": rate(low, total),
    }


def _open_overdue(
    cohort: QuerySet[Episode], flag_rows: list[dict[str, Any]], today: _Today, out: Figures
) -> None:
    """Open episodes' referral deadlines, by rule, time zone and date; those passed, by rule.

    The referral deadline is careflow's (REF-1..3 and red flags), computed from the
    episode's facts and active flags: not ``next_deadline``, which is the earliest of every
    deadline and may be the CC-1 reassessment. Whether it has passed is a matter of the
    patient's today, so the tally keeps the date and the figure compares it.
    """
    active: dict[int, list[RedFlagFact]] = defaultdict(list)
    for row in flag_rows:
        if row["status"] == RedFlagStatus.ACTIVE:
            active[row["episode_id"]].append(
                RedFlagFact(row["sign"], row["raised_on"], row["raised_at"])
            )
    rows = cohort.filter(state__in=[str(s) for s in PRE_REFERRAL_STATES]).values_list(
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
        deadline = referral_deadline(State(state), facts)
        if deadline is None:
            continue
        group = referral_rule_group(deadline.rule)
        out.tally.add("referral.open_due", group, zone, deadline.due.isoformat())
        if deadline.overdue(today(zone)):
            found[group].add(pk)
    for group in REFERRAL_RULES:
        out.drill[f"referral_overdue:{group}"] = found[group]


def _referrals(
    cohort: QuerySet[Episode], flag_rows: list[dict[str, Any]], today: _Today, out: Figures
) -> list[tuple[int, Any]]:
    rows = list(
        Referral.objects.filter(episode__in=cohort).values_list(
            "episode_id", "made_on", "due_on", "due_rule", "created_at", "episode__symptom_onset"
        )
    )
    late_ids: dict[str, set[int]] = defaultdict(set)
    for episode_id, made_on, due_on, due_rule, _at, onset in rows:
        if due_on is None or not due_rule:
            continue  # a second referral with no deadline open: nothing to be timely against
        group = referral_rule_group(due_rule)
        out.tally.add(
            "referral.days", group, (made_on - finding_date(due_rule, due_on, onset)).days
        )
        out.tally.add("referral.month", made_on.strftime("%Y-%m"), on_time(made_on, due_on))
        if on_time(made_on, due_on):
            out.tally.add("referral.on_time", group)
        else:
            late_ids[group].add(episode_id)
    for group in REFERRAL_RULES:
        out.drill[f"referral_late:{group}"] = late_ids[group]
    _open_overdue(cohort, flag_rows, today, out)
    return [(episode_id, at) for episode_id, _m, _d, _r, at, _o in rows]


def _referral_figures(tally: Tally, today: _Today) -> dict[str, Any]:
    days = tally.by_first("referral.days")
    met = tally.get("referral.on_time")
    overdue: Counter[str] = Counter()
    for (group, zone, due), n in tally.get("referral.open_due").items():
        if Deadline(SPECIALIST_REFERRAL, date.fromisoformat(due), group).overdue(today(zone)):
            overdue[group] += n
    months: dict[str, Counter[bool]] = defaultdict(Counter)
    for (month, in_time), n in tally.get("referral.month").items():
        months[month][in_time] += n
    section = {}
    for group in REFERRAL_RULES:
        made = sum(days.get(group, Counter()).values())
        section[group] = {
            "referrals": made,
            "on_time": met[group,],
            "share_on_time": rate(met[group,], made),
            "median_days": percentile_of_counts(days.get(group, {}), 50),
            "p90_days": percentile_of_counts(days.get(group, {}), 90),
            "open_overdue": overdue[group],
        }
    return {
        "rules": list(REFERRAL_RULES),
        "by_rule": section,
        # Every rule together, by the month the referral was made: the trend.
        "by_month": [
            {
                "month": month,
                "referrals": sum(results.values()),
                "on_time": results[True],
                "share_on_time": rate(results[True], sum(results.values())),
            }
            for month, results in sorted(months.items())
            if sum(results.values())
        ],
    }


def _red_flag_to_referral(
    flag_rows: list[dict[str, Any]], referrals: list[tuple[int, Any]], out: Figures
) -> None:
    referred: dict[int, list[Any]] = defaultdict(list)
    for episode_id, at in referrals:
        referred[episode_id].append(at)
    waiting: set[int] = set()
    ruled_out_ids: set[int] = set()
    out.tally.add("red_flags", n=len(flag_rows))
    for row in flag_rows:
        if row["status"] == RedFlagStatus.RULED_OUT:
            out.tally.add("red_flags.ruled_out_by", row["ruled_out_by_id"])
            ruled_out_ids.add(row["episode_id"])
        answered = hours_to_referral(
            row["raised_at"], row["ruled_out_at"], referred.get(row["episode_id"], [])
        )
        if answered is not None:
            out.tally.add("red_flags.hours", answered)
        elif row["status"] == RedFlagStatus.ACTIVE:
            waiting.add(row["episode_id"])
    out.tally.add("red_flags.waiting", n=len(waiting))
    out.drill["red_flag_waiting"] = waiting
    out.drill["red_flag_ruled_out"] = ruled_out_ids


def _red_flag_figures(tally: Tally, usernames: dict[int, str]) -> dict[str, Any]:
    hours = {value: n for (value,), n in tally.get("red_flags.hours").items()}
    ruled_out_by: Counter[str] = Counter()
    for (user_id,), n in tally.get("red_flags.ruled_out_by").items():
        ruled_out_by[usernames.get(user_id) or UNKNOWN_USER] += n
    return {
        "rules": [rules.RF],
        "flags": tally.total("red_flags"),
        "referred": sum(hours.values()),
        "median_hours": percentile_of_counts(hours, 50),
        "p90_hours": percentile_of_counts(hours, 90),
        "active_without_referral": tally.total("red_flags.waiting"),
        "ruled_out": sum(ruled_out_by.values()),
        "ruled_out_by": dict(sorted((k, v) for k, v in ruled_out_by.items() if v)),
    }


def _care_plan(
    cohort: QuerySet[Episode], episodes: dict[int, dict[str, Any]], today: _Today, out: Figures
) -> None:
    rows = CarePlanItem.objects.filter(episode__in=cohort).values_list(
        "episode_id", "item", "started_on", "recorded_at", "flags"
    )
    education: dict[int, list[date]] = defaultdict(list)
    therapy_from: dict[int, date] = {}
    flagged_ids: dict[str, set[int]] = defaultdict(set)
    for episode_id, item, started_on, recorded_at, flags in rows:
        zone = episodes[episode_id]["patient__timezone"]
        if item in EDUCATION:
            education[episode_id].append(started_on or _local_date(recorded_at, zone))
        if item in PT_LEVEL_B and started_on is not None:
            therapy_from[episode_id] = min(started_on, therapy_from.get(episode_id, started_on))
        for flag in flags or []:
            rule = flag.get("rule", "")
            out.tally.add("care.flagged", rule)
            flagged_ids[rule].add(episode_id)
    educated = {
        pk
        for pk, days in education.items()
        if education_within_two_weeks(episodes[pk]["enrolled_on"], days)
    }
    # Level B therapy has started once its first start date is the patient's today or
    # before: the tally keeps that date, the figure compares it with today.
    therapy = set()
    for pk, first in therapy_from.items():
        zone = episodes[pk]["patient__timezone"]
        out.tally.add("care.therapy_from", zone, first.isoformat())
        if started_by(first, today(zone)):
            therapy.add(pk)
    out.tally.add("care.educated", n=len(educated))
    out.drill["education_missing"] = set(episodes) - educated
    out.drill["physical_therapy_missing"] = set(episodes) - therapy
    out.drill["flagged_cc3"] = flagged_ids[rules.CC_3]
    out.drill["flagged_rfa1"] = flagged_ids[rules.RFA_1]


def _care_plan_figures(tally: Tally, today: _Today) -> dict[str, Any]:
    total, educated = tally.total("episodes"), tally.total("care.educated")
    therapy = sum(
        n
        for (zone, first), n in tally.get("care.therapy_from").items()
        if started_by(date.fromisoformat(first), today(zone))
    )
    flagged = tally.get("care.flagged")
    return {
        "rules": [rules.CC_2, rules.CC_3, rules.CC_4, rules.RFA_1],
        "episodes": total,
        "education_within_2_weeks": educated,
        "education_share": rate(educated, total),
        "level_b_physical_therapy": therapy,
        "physical_therapy_share": rate(therapy, total),
        "items_flagged_cc3": flagged[rules.CC_3,],
        "items_flagged_rfa1": flagged[rules.RFA_1,],
    }


def _procedures(cohort: QuerySet[Episode], out: Figures) -> None:
    esi = Counter(EsiPlan.objects.filter(episode__in=cohort).values_list("episode_id", flat=True))
    for n in esi.values():
        out.tally.add("esi.episodes_with", min(n, 3))
    out.tally.add("esi.injections", n=sum(esi.values()))
    surgery = list(
        SurgeryPlan.objects.filter(episode__in=cohort).values_list(
            "episode_id", "procedure", "fusion_indication"
        )
    )
    fusions = [
        (pk, fusion_indications(ind)) for pk, procedure, ind in surgery if procedure == FUSION
    ]
    out.tally.add("surgery.plans", n=len(surgery))
    out.tally.add("surgery.fusions", n=len(fusions))
    for _, codes in fusions:
        for code in codes or ["(none)"]:
            out.tally.add("surgery.fusion_indication", code)
    out.drill["esi"] = set(esi)
    out.drill["fusion"] = {pk for pk, _ in fusions}


def _procedure_figures(tally: Tally) -> tuple[dict[str, Any], dict[str, Any]]:
    total, injections = tally.total("episodes"), tally.total("esi.injections")
    distribution = tally.get("esi.episodes_with")
    plans, fusions = tally.total("surgery.plans"), tally.total("surgery.fusions")
    indications = {code: n for (code,), n in tally.get("surgery.fusion_indication").items() if n}
    esi = {
        "rules": [rules.ESI_1, rules.ESI_2, rules.ESI_3],
        "injections": injections,
        "per_episode": rate(injections, total),
        "episodes_with": {
            "0": total - sum(distribution.values()),
            "1": distribution[1,],
            "2": distribution[2,],
            "3+": distribution[3,],
        },
    }
    surgery = {
        "rules": [rules.SX_4, rules.SX_5],
        "plans": plans,
        "fusions": fusions,
        "fusion_share": rate(fusions, plans),
        # Fusions with each indication: a plan naming two counts under both.
        "fusion_indications": dict(sorted(indications.items())),
    }
    return esi, surgery


def _flow(cohort: QuerySet[Episode], episodes: dict[int, dict[str, Any]], out: Figures) -> None:
    moves: dict[int, list[Move]] = defaultdict(list)
    for episode_id, on, from_state, to_state in (
        TransitionLog.objects.filter(episode__in=cohort)
        .order_by("at", "id")
        .values_list("episode_id", "evaluated_on", "from_state", "to_state")
    ):
        moves[episode_id].append(Move(on, from_state, to_state))
    resolved = set()
    for pk, row in episodes.items():
        history = moves.get(pk, [])
        initial = str(State.CONSERVATIVE_CARE)
        for day, state, n in state_changes(row["enrolled_on"], initial, history):
            out.tally.add("flow.change", day.isoformat(), state, n=n)
        for state, days in days_in_states(row["enrolled_on"], initial, history):
            out.tally.add("flow.stay", state, days)
        resolved_on = next((m.on for m in history if m.to_state == State.RESOLVED), None)
        if resolved_by_three_months(row["symptom_onset"], resolved_on):
            resolved.add(pk)
    out.tally.add("flow.resolved", n=len(resolved))
    out.drill["resolved_by_3_months"] = resolved
    out.drill["cohort"] = set(episodes)


def _flow_figures(tally: Tally, start: date, today: date) -> dict[str, Any]:
    # The cohort is followed to today: every month's end from the range's start to today.
    days = month_ends(start, today)
    states = states_from_changes(days, tally.get("flow.change"))
    stays = tally.by_first("flow.stay")
    total, resolved = tally.total("episodes"), tally.total("flow.resolved")
    return {
        "rules": [rules.REF_1],
        "episodes": total,
        "states_over_time": [
            {"on": day.isoformat(), "states": counts}
            for day, counts in zip(days, states, strict=True)
        ],
        "days_in_state": {
            state: {
                "stays": sum(counts.values()),
                "median_days": percentile_of_counts(counts, 50),
                "p90_days": percentile_of_counts(counts, 90),
            }
            for state, counts in sorted(stays.items())
            if sum(counts.values())
        },
        "resolved_by_3_months": resolved,
        "resolved_share": rate(resolved, total),
    }


def episode_counts(cohort: QuerySet[Episode], out: Figures, now: datetime | None = None) -> None:
    """Read a cohort's rows into ``out``'s tally and drill-downs: nine queries, any size.

    ``now`` decides only the drill-downs that turn on the patient's today (open overdue
    referrals, therapy started); the tally keeps the dates they turn on.
    """
    today = _Today(now or timezone.now())
    episodes = {
        row["id"]: row
        for row in cohort.values(
            "id", "enrolled_on", "symptom_onset", "conservative_care_start", "patient__timezone"
        )
    }
    out.tally.add("episodes", n=len(episodes))
    intervals, flag_rows = _flag_intervals(cohort, out)
    _imaging(cohort, intervals, out)
    referrals = _referrals(cohort, flag_rows, today, out)
    _red_flag_to_referral(flag_rows, referrals, out)
    _care_plan(cohort, episodes, today, out)
    _procedures(cohort, out)
    _flow(cohort, episodes, out)


def figures_from_tally(
    tally: Tally, usernames: dict[int, str], *, start: date, today: date, now: datetime
) -> dict[str, Any]:
    """Every episode figure of a report over ``start``.., from its tally, as of ``now``."""
    local_today = _Today(now)
    esi, surgery = _procedure_figures(tally)
    return {
        "low_value_imaging": _imaging_figures(tally),
        "referral_timeliness": _referral_figures(tally, local_today),
        "red_flag_to_referral": _red_flag_figures(tally, usernames),
        "conservative_care": _care_plan_figures(tally, local_today),
        "esi": esi,
        "surgery": surgery,
        "flow": _flow_figures(tally, start, today),
    }


def user_names(ids: set[int], known: dict[int, str]) -> dict[int, str]:
    """``known`` with the usernames of ``ids`` it lacks (one query, none when it lacks none)."""
    missing = {pk for pk in ids if pk is not None and pk not in known}
    if not missing:
        return known
    found = get_user_model().objects.filter(pk__in=missing).values_list("pk", "username")
    return {**known, **dict(found)}


def episode_figures(
    scope: Scope, today: date | None = None, now: datetime | None = None
) -> Figures:
    """Every figure read from episodes, live: nine queries whatever the cohort's size."""
    now = now or timezone.now()
    today = today or timezone.localdate()
    out = Figures()
    episode_counts(scope.cohort(), out, now)
    out.data.update(
        figures_from_tally(out.tally, out.usernames, start=scope.start, today=today, now=now)
    )
    return out
