"""Property-based tests: random sequences of facts, red flags and transitions.

Whatever the sequence, the pathway's invariants hold: no imaging or ESI before day 42
unless a red flag was active (ESI never), terminal states have no way out, every state
change has exactly one log row, and a refused transition changes nothing at all.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core import serializers
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careflow.facts import BOOLEAN_FACTS
from careflow.guards import DISCECTOMY_TECHNIQUES, FUSION_INDICATIONS
from careflow.redflags import DERIVED_SIGNS, Sign
from careflow.states import TERMINAL_STATES, State, TransitionName
from episodes import services
from episodes.models import Episode, TransitionLog

NY = ZoneInfo("America/New_York")
ONSET = date(2026, 9, 1)
USER_SIGNS = [s.value for s in Sign if s not in DERIVED_SIGNS]

advance = st.tuples(st.just("advance"), st.integers(min_value=1, max_value=20))
assess = st.tuples(
    st.just("assess"),
    st.dictionaries(st.sampled_from(BOOLEAN_FACTS), st.booleans(), min_size=1, max_size=4),
)
raise_flag = st.tuples(st.just("raise_flag"), st.sampled_from(USER_SIGNS))
correct_start = st.tuples(st.just("correct_start"), st.integers(min_value=0, max_value=60))
rule_out = st.tuples(st.just("rule_out"), st.integers(min_value=0, max_value=3))
# Facts that open the elective gates, so sequences often reach imaging, ESI and surgery.
ready = st.tuples(
    st.just("assess"),
    st.just({name: True for name in BOOLEAN_FACTS if name != "new_onset_pain"}),
)
imaging = st.tuples(st.just("imaging"), st.tuples(st.booleans(), st.booleans()))
transition_body = st.fixed_dictionaries(
    {},
    optional={
        "guidance": st.sampled_from(["fluoroscopic", "blind"]),
        "approach": st.sampled_from(["interlaminar", "transforaminal"]),
        "patient_consented": st.booleans(),
        "urgency": st.sampled_from(["immediate", "within_2_weeks", "routine"]),
        "reason": st.sampled_from(["withdrawn", "other", "patient choice"]),
        "procedure": st.sampled_from(["discectomy", "fusion"]),
        "technique": st.sampled_from(DISCECTOMY_TECHNIQUES),
        "fusion_indication": st.sampled_from(FUSION_INDICATIONS),
    },
)
move = st.tuples(
    st.just("transition"),
    st.tuples(st.sampled_from([t.value for t in TransitionName]), transition_body),
)
forward = st.tuples(
    st.just("transition"),
    st.tuples(
        st.sampled_from(["confirm_imaging_eligibility", "schedule_esi"]),
        st.just(
            {"guidance": "fluoroscopic", "approach": "interlaminar", "patient_consented": True}
        ),
    ),
)
steps = st.lists(
    st.one_of(
        advance, assess, ready, raise_flag, rule_out, imaging, correct_start, move, forward, forward
    ),
    min_size=1,
    max_size=25,
)


def snapshot(episode_id: int) -> str:
    """Every row of the episode and its history, serialised: byte-for-byte comparable."""
    episode = Episode.objects.get(pk=episode_id)
    rows = [episode]
    for related in (
        "assessments",
        "red_flags",
        "imaging",
        "care_plan",
        "transitions",
        "esi_plans",
        "referrals",
        "surgery_plans",
        "reminders",
    ):
        rows.extend(getattr(episode, related).order_by("pk"))
    if hasattr(episode, "closure"):
        rows.append(episode.closure)
    return serializers.serialize("json", rows)


def moment(day: int) -> datetime:
    return datetime.combine(ONSET + timedelta(days=day), time(10), tzinfo=NY)


def run_step(step, episode_id: int, day: int, users) -> bool:
    """Apply one step; returns True when it was a refused transition."""
    kind, arg = step
    coordinator, clinician = users
    if kind == "assess":
        services.assessment_record(episode_id=episode_id, by=coordinator, values=arg)
    elif kind == "raise_flag":
        services.red_flag_raise(episode_id=episode_id, sign=arg, by=coordinator)
    elif kind == "rule_out":
        flags = list(Episode.objects.get(pk=episode_id).red_flags.filter(status="active"))
        if flags:
            flag = flags[arg % len(flags)]
            services.red_flag_rule_out(flag_id=flag.pk, episode_id=episode_id, by=clinician)
    elif kind == "correct_start":
        # A corrected conservative-care start (never after today) moves the day count.
        services.episode_update(
            episode_id=episode_id,
            by=coordinator,
            fields={"conservative_care_start": ONSET + timedelta(days=min(arg, day))},
        )
    elif kind == "imaging":
        compression, correlated = arg
        services.imaging_record(
            episode_id=episode_id,
            by=clinician,
            performed_on=ONSET + timedelta(days=day),
            nerve_root_compression=compression,
            clinically_correlated=correlated,
        )
    elif kind == "transition":
        name, body = arg
        before = snapshot(episode_id)
        try:
            services.episode_transition(episode_id=episode_id, name=name, by=clinician, data=body)
        except (services.TransitionError, ValidationError):
            assert snapshot(episode_id) == before, f"refused {name} changed the episode"
            return True
    return False


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_random_sequences_keep_the_pathway_invariants(sequence, patient, coordinator, clinician):
    with time_machine.travel(moment(0), tick=False):
        episode = services.episode_create(patient=patient, by=coordinator, symptom_onset=ONSET)
    day = 0
    states_seen = [episode.state]
    for step in sequence:
        if step[0] == "advance":
            day += step[1]
            continue
        # Input the pathway refuses (e.g. writing to a closed episode) changes nothing.
        with time_machine.travel(moment(day), tick=False), contextlib.suppress(ValidationError):
            run_step(step, episode.pk, day, (coordinator, clinician))
        state = Episode.objects.get(pk=episode.pk).state
        if state != states_seen[-1]:
            states_seen.append(state)

    logs = list(TransitionLog.objects.filter(episode=episode).order_by("at", "pk"))
    # Every state change has exactly one log row, chained from one state to the next.
    # (A state can be left and re-entered, so compare the chain, not a set.)
    chain = [State.CONSERVATIVE_CARE.value] + [log.to_state for log in logs]
    assert [log.from_state for log in logs] == chain[:-1]
    collapsed = [s for i, s in enumerate(chain) if i == 0 or s != chain[i - 1]]
    assert collapsed == states_seen
    for log in logs:
        snap = log.facts_snapshot
        care_days = (log.evaluated_on - date.fromisoformat(snap["conservative_care_start"])).days
        if log.to_state == State.IMAGING_ELIGIBLE:
            assert care_days >= 42 or snap["active_red_flags"], "imaging before day 42"
        if log.to_state == State.ESI:
            assert care_days >= 42, "ESI before day 42 (never waived)"
    # Terminal states have no way out.
    terminal_at = next((i for i, log in enumerate(logs) if log.to_state in TERMINAL_STATES), None)
    if terminal_at is not None:
        assert terminal_at == len(logs) - 1
