"""URLs of the HTTP API, included under ``api/`` (shared/spec/API.md)."""

from __future__ import annotations

from django.urls import path, re_path

from api.views.access import PatientAccessApi
from api.views.episodes import EpisodeDetailApi, EpisodesApi
from api.views.facts import (
    AssessmentCreateApi,
    CarePlanApi,
    CarePlanItemUpdateApi,
    ImagingRecordApi,
    RedFlagRaiseApi,
    RedFlagReportReviewApi,
    RedFlagRuleOutApi,
)
from api.views.not_found import ApiNotFoundApi
from api.views.patients import PatientDetailApi, PatientsApi, PatientSearchApi
from api.views.queues import QueueEpisodeListApi, QueueListApi
from api.views.teams import (
    TeamChangesApi,
    TeamInvitationsApi,
    TeamLeadApi,
    TeamMemberApi,
    TeamMemberDeactivateApi,
    TeamMembersApi,
    TeamsLedApi,
)
from api.views.timeline import EpisodeReminderListApi, EpisodeTimelineApi, ReplyReadApi
from api.views.transitions import EpisodeTransitionApi

urlpatterns = [
    path("patients/", PatientsApi.as_view(), name="patients"),
    path("patients/_search", PatientSearchApi.as_view(), name="patients-search"),
    path("patients/<int:patient_id>/", PatientDetailApi.as_view(), name="patient"),
    path(
        "patients/<int:patient_id>/access-records/",
        PatientAccessApi.as_view(),
        name="patient-access-records",
    ),
    path("episodes/", EpisodesApi.as_view(), name="episodes"),
    path("episodes/<int:episode_id>/", EpisodeDetailApi.as_view(), name="episode"),
    path(
        "episodes/<int:episode_id>/assessments/",
        AssessmentCreateApi.as_view(),
        name="episode-assessments",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/",
        RedFlagRaiseApi.as_view(),
        name="episode-red-flags",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/<int:flag_id>/",
        RedFlagRuleOutApi.as_view(),
        name="episode-red-flag",
    ),
    path(
        "episodes/<int:episode_id>/red-flag-reports/<int:report_id>/review/",
        RedFlagReportReviewApi.as_view(),
        name="episode-red-flag-report-review",
    ),
    path(
        "episodes/<int:episode_id>/imaging/",
        ImagingRecordApi.as_view(),
        name="episode-imaging",
    ),
    path(
        "episodes/<int:episode_id>/care-plan/",
        CarePlanApi.as_view(),
        name="episode-care-plan",
    ),
    path(
        "episodes/<int:episode_id>/care-plan/<int:item_id>/",
        CarePlanItemUpdateApi.as_view(),
        name="episode-care-plan-item",
    ),
    path(
        "episodes/<int:episode_id>/transitions/<str:name>/",
        EpisodeTransitionApi.as_view(),
        name="episode-transition",
    ),
    path(
        "episodes/<int:episode_id>/timeline/",
        EpisodeTimelineApi.as_view(),
        name="episode-timeline",
    ),
    path(
        "episodes/<int:episode_id>/reminders/",
        EpisodeReminderListApi.as_view(),
        name="episode-reminders",
    ),
    path(
        "episodes/<int:episode_id>/replies/<int:reply_id>/read/",
        ReplyReadApi.as_view(),
        name="episode-reply-read",
    ),
    path("queues/", QueueListApi.as_view(), name="queues"),
    path("queues/<str:name>/", QueueEpisodeListApi.as_view(), name="queue"),
    path("teams/", TeamsLedApi.as_view(), name="teams"),
    path("teams/<int:team_id>/members/", TeamMembersApi.as_view(), name="team-members"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/",
        TeamMemberApi.as_view(),
        name="team-member",
    ),
    path(
        "teams/<int:team_id>/members/<int:user_id>/deactivate/",
        TeamMemberDeactivateApi.as_view(),
        name="team-member-deactivate",
    ),
    path(
        "teams/<int:team_id>/invitations/",
        TeamInvitationsApi.as_view(),
        name="team-invitations",
    ),
    path("teams/<int:team_id>/lead/", TeamLeadApi.as_view(), name="team-lead"),
    path("teams/<int:team_id>/changes/", TeamChangesApi.as_view(), name="team-changes"),
    # Last: any other URL under /api/ is a JSON 404 in the API's error shape.
    # Any character, a newline (%0A) included.
    re_path(r"^[\s\S]*$", ApiNotFoundApi.as_view(), name="api-not-found"),
]
