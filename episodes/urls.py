"""URLs of the HTTP API, included under ``api/`` (shared/spec/API.md)."""

from __future__ import annotations

from django.urls import path, re_path

from episodes import apis

urlpatterns = [
    path("patients/", apis.PatientsApi.as_view(), name="patients"),
    path("patients/<int:patient_id>/", apis.PatientDetailApi.as_view(), name="patient"),
    path("episodes/", apis.EpisodesApi.as_view(), name="episodes"),
    path("episodes/<int:episode_id>/", apis.EpisodeDetailApi.as_view(), name="episode"),
    path(
        "episodes/<int:episode_id>/assessments/",
        apis.AssessmentCreateApi.as_view(),
        name="episode-assessments",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/",
        apis.RedFlagRaiseApi.as_view(),
        name="episode-red-flags",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/<int:flag_id>/",
        apis.RedFlagRuleOutApi.as_view(),
        name="episode-red-flag",
    ),
    path(
        "episodes/<int:episode_id>/imaging/",
        apis.ImagingRecordApi.as_view(),
        name="episode-imaging",
    ),
    path(
        "episodes/<int:episode_id>/care-plan/",
        apis.CarePlanApi.as_view(),
        name="episode-care-plan",
    ),
    path(
        "episodes/<int:episode_id>/care-plan/<int:item_id>/",
        apis.CarePlanItemUpdateApi.as_view(),
        name="episode-care-plan-item",
    ),
    path(
        "episodes/<int:episode_id>/transitions/<str:name>/",
        apis.EpisodeTransitionApi.as_view(),
        name="episode-transition",
    ),
    path(
        "episodes/<int:episode_id>/timeline/",
        apis.EpisodeTimelineApi.as_view(),
        name="episode-timeline",
    ),
    path(
        "episodes/<int:episode_id>/reminders/",
        apis.EpisodeReminderListApi.as_view(),
        name="episode-reminders",
    ),
    path("queues/", apis.QueueListApi.as_view(), name="queues"),
    path("queues/<str:name>/", apis.QueueEpisodeListApi.as_view(), name="queue"),
    # Last: any other URL under /api/ is a JSON 404 in the API's error shape.
    re_path(r"^.*$", apis.ApiNotFoundApi.as_view(), name="api-not-found"),
]
