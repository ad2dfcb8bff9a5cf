"""Every read of episodes: facts for the guards, access-checked fetches, queues, timeline.

One module per concern; this package re-exports the public API, so
``from episodes.selectors import X`` reads as before:

    pathway   the patient's today, the episode's facts, next actions, the pathway view
    access    what a user may see: teams, patients, episodes (404 for the rest)
    queues    the Queue registry, a queue's episodes, every queue's count
    queue_rows  a queue page as plain rows: one hand-written statement, flags and imaging in it
    search    patients by any part of the name (accents ignored) or date of birth
    timeline  the timeline and its registered sources
"""

from __future__ import annotations

from episodes.selectors.access import (
    MAX_ID,
    active_red_flags,
    care_plan_for,
    care_plan_item_get_for,
    care_team_for_new_patient,
    care_team_has_member,
    care_teams_for,
    episode_get_for,
    episode_id_for,
    episode_list_for,
    patient_get_for,
    patient_list_for,
    red_flag_get_for,
    red_flag_report_get_for,
    red_flag_reports_to_review,
    team_ids_for,
    team_members,
)
from episodes.selectors.pathway import (
    episode_facts,
    episode_next_action,
    episode_pathway_view,
    facts_refresh,
    facts_with_flag,
    imaging_warnings_for,
    patient_today,
)
from episodes.selectors.queue_rows import (
    SORTS,
    RowFilters,
    episode_row,
    queue_counts_up_to,
    queue_page_count,
    queue_page_rows,
    row_facts,
    row_flags,
    row_next_action,
    row_today,
)
from episodes.selectors.queues import (
    LOCAL_DATE_SPREAD,
    OPEN_EPISODES,
    OPEN_STATES,
    QUEUES,
    Queue,
    Where,
    queue_counts,
    queue_episodes,
    queue_get,
    queue_register,
)
from episodes.selectors.search import parse_birth_date, patient_search, search_terms
from episodes.selectors.timeline import (
    TIMELINE_SOURCES,
    TimelineEvent,
    TimelineSource,
    episode_timeline,
    timeline_source_register,
)

__all__ = [
    "LOCAL_DATE_SPREAD",
    "MAX_ID",
    "OPEN_EPISODES",
    "OPEN_STATES",
    "QUEUES",
    "SORTS",
    "TIMELINE_SOURCES",
    "Queue",
    "RowFilters",
    "TimelineEvent",
    "TimelineSource",
    "Where",
    "active_red_flags",
    "care_plan_for",
    "care_plan_item_get_for",
    "care_team_for_new_patient",
    "care_team_has_member",
    "care_teams_for",
    "episode_facts",
    "episode_get_for",
    "episode_id_for",
    "episode_list_for",
    "episode_next_action",
    "episode_pathway_view",
    "episode_row",
    "episode_timeline",
    "facts_refresh",
    "facts_with_flag",
    "imaging_warnings_for",
    "parse_birth_date",
    "patient_get_for",
    "patient_list_for",
    "patient_search",
    "patient_today",
    "queue_counts",
    "queue_counts_up_to",
    "queue_episodes",
    "queue_get",
    "queue_page_count",
    "queue_page_rows",
    "queue_register",
    "red_flag_get_for",
    "red_flag_report_get_for",
    "red_flag_reports_to_review",
    "row_facts",
    "row_flags",
    "row_next_action",
    "row_today",
    "search_terms",
    "team_ids_for",
    "team_members",
    "timeline_source_register",
]
