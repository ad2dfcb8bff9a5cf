"""The clinical record's rows, one module per part of the record.

    people     care teams and their members, patients (and the channels that reach them)
    episode    the episode and its pathway state machine
    record     what is recorded about an episode: assessments, red flags and the patient's
               red-flag reports, imaging, the conservative care plan
    decisions  what the transitions record: ESI plan, referral, surgery plan, closure
    history    append-only: the transition log, corrections of dates

Everything is re-exported here, so ``from episodes.models import Episode`` reads as before
(and Django finds every model when it imports ``episodes.models``).
"""

from __future__ import annotations

from episodes.models.decisions import (
    Closure,
    ClosureReason,
    EsiPlan,
    Referral,
    SurgeryPlan,
    Urgency,
)
from episodes.models.episode import Episode, is_team_clinician, pathway_transition
from episodes.models.history import (
    AppendOnly,
    AppendOnlyError,
    CorrectedField,
    Correction,
    TransitionLog,
)
from episodes.models.people import (
    CHANNEL_MAX_LENGTH,
    CareTeam,
    CareTeamMembership,
    Channel,
    Gender,
    Language,
    Patient,
    Role,
    iana_zones,
    validate_timezone,
)
from episodes.models.record import (
    Assessment,
    CarePlanItem,
    ImagingStudy,
    RedFlag,
    RedFlagReport,
    RedFlagStatus,
    Source,
)

__all__ = [
    "CHANNEL_MAX_LENGTH",
    "AppendOnly",
    "AppendOnlyError",
    "Assessment",
    "CarePlanItem",
    "CareTeam",
    "CareTeamMembership",
    "Channel",
    "Closure",
    "ClosureReason",
    "CorrectedField",
    "Correction",
    "Episode",
    "EsiPlan",
    "Gender",
    "ImagingStudy",
    "Language",
    "Patient",
    "RedFlag",
    "RedFlagReport",
    "RedFlagStatus",
    "Referral",
    "Role",
    "Source",
    "SurgeryPlan",
    "TransitionLog",
    "Urgency",
    "iana_zones",
    "is_team_clinician",
    "pathway_transition",
    "validate_timezone",
]
