"""Whether a milestone reminder still serves: guideline logic, facts in and a reason out.

notifications asks this when it schedules a reminder and again just before sending; the
reason it gives is the row's ``status_reason``. Audiences are the reminder's ``audience``
values (``patient``, ``care_team``).
"""

from __future__ import annotations

from careflow.deadlines import Milestone
from careflow.states import TERMINAL_STATES, State

PATIENT = "patient"
CARE_TEAM = "care_team"


def milestone_why_not(
    *,
    state: State,
    milestone: Milestone,
    audience: str,
    opted_out: bool,
    referral_made: bool,
) -> str:
    """Why a milestone reminder no longer serves (empty when it still does).

    A closed episode needs none; a patient who opted out gets none; the 3-month check is
    the care team's REF-1 reminder, met once a referral is made; the 6-week one is the
    reassessment of conservative care (CC-1) and serves only while the episode is there.
    """
    if state in TERMINAL_STATES:
        return f"episode {state}"
    if audience == PATIENT and opted_out:
        return "patient opted out of reminders"
    if milestone == Milestone.THREE_MONTHS and audience == CARE_TEAM and referral_made:
        return "referral made (REF-1 met)"
    if (
        milestone == Milestone.SIX_WEEKS
        and audience == CARE_TEAM
        and state != State.CONSERVATIVE_CARE
    ):
        # Not "reassessment done": the episode left conservative care (an escalation, say)
        # and the reminder comes back if it returns there (clear_escalation).
        return f"no 6-week reassessment while the episode is {state}"
    return ""
