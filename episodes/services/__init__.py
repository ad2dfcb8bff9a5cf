"""Every write to an episode, each in one transaction.

Views, admin actions, tasks and check-ins all come through here, so the pathway's rules,
the audit trail and the reminders stay consistent whoever makes the change. A service
``<entity>_<verb>`` is a transaction of its own that locks the episode; a step named
``<entity>_<verb>_locked`` runs inside such a write, on the episode its caller has locked,
and leaves the saving to the write's ``after_write``. One module per
sub-domain; this package re-exports the public API, so ``from episodes import services``
and ``services.episode_transition(...)`` read as before:

    errors       the distinct refusals (TransitionError and its kinds)
    checks       the lock and the checks every write starts with
    derived      the derived columns the queues read, and the ``episode_changed`` event
    transitions  episode_transition and the transition machinery
    red_flags    raise (clinician, check-in, derived RF-3), rule out
    facts        assessments: their values become the current facts
    episodes     create, correct, lock an open one
    enrolment    a patient and episode from another system's record, conditional on its id
    patients     create, correct
    imaging      imaging studies
    care_plan    care-plan items
    checkins     what a patient's check-in does to the episode
    reports      a patient's red-flag reports: never absorbed, reviewed by a clinician
"""

from __future__ import annotations

from episodes.services.care_plan import care_plan_item_add, care_plan_item_update
from episodes.services.checkins import (
    checkin_answers_validate,
    episode_checkin_apply,
    episode_checkin_red_flags_report,
)
from episodes.services.derived import after_write
from episodes.services.enrolment import Enrolment, enrolment_create
from episodes.services.episodes import (
    DATE_FIELDS,
    episode_create,
    episode_lock,
    episode_update,
)
from episodes.services.errors import (
    EpisodeClosedError,
    GuardFailedError,
    InvalidTransitionError,
    NotPermittedError,
    StaleVersionError,
    TransitionError,
    UnknownTransitionError,
)
from episodes.services.facts import RUN_DATED_FACTS, assessment_record
from episodes.services.imaging import imaging_record
from episodes.services.patients import PATIENT_FIELDS, patient_create, patient_update
from episodes.services.red_flags import red_flag_raise, red_flag_rule_out
from episodes.services.reports import red_flag_report_review
from episodes.services.transitions import episode_transition

# The name every write's recomputation had before the split (the bench's generator test
# calls it to prove its bulk rows match what a write derives).
_after_write = after_write

__all__ = [
    "DATE_FIELDS",
    "PATIENT_FIELDS",
    "RUN_DATED_FACTS",
    "Enrolment",
    "EpisodeClosedError",
    "GuardFailedError",
    "InvalidTransitionError",
    "NotPermittedError",
    "StaleVersionError",
    "TransitionError",
    "UnknownTransitionError",
    "after_write",
    "assessment_record",
    "care_plan_item_add",
    "care_plan_item_update",
    "checkin_answers_validate",
    "enrolment_create",
    "episode_checkin_apply",
    "episode_checkin_red_flags_report",
    "episode_create",
    "episode_lock",
    "episode_transition",
    "episode_update",
    "imaging_record",
    "patient_create",
    "patient_update",
    "red_flag_raise",
    "red_flag_report_review",
    "red_flag_rule_out",
]
