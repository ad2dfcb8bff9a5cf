"""URLs of the HTTP API, included under ``api/`` (shared/spec/API.md)."""

from __future__ import annotations

from django.urls import path, re_path

from episodes.api import views

urlpatterns = [
    path("patients/", views.PatientsApi.as_view(), name="patients"),
    path("patients/<int:patient_id>/", views.PatientDetailApi.as_view(), name="patient"),
    path("episodes/", views.EpisodesApi.as_view(), name="episodes"),
    path("episodes/<int:episode_id>/", views.EpisodeDetailApi.as_view(), name="episode"),
    path(
        "episodes/<int:episode_id>/assessments/",
        views.AssessmentCreateApi.as_view(),
        name="episode-assessments",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/",
        views.RedFlagRaiseApi.as_view(),
        name="episode-red-flags",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/<int:flag_id>/",
        views.RedFlagRuleOutApi.as_view(),
        name="episode-red-flag",
    ),
    path(
        "episodes/<int:episode_id>/red-flag-reports/<int:report_id>/review/",
        views.RedFlagReportReviewApi.as_view(),
        name="episode-red-flag-report-review",
    ),
    path(
        "episodes/<int:episode_id>/imaging/",
        views.ImagingRecordApi.as_view(),
        name="episode-imaging",
    ),
    path(
        "episodes/<int:episode_id>/care-plan/",
        views.CarePlanApi.as_view(),
        name="episode-care-plan",
    ),
    path(
        "episodes/<int:episode_id>/care-plan/<int:item_id>/",
        views.CarePlanItemUpdateApi.as_view(),
        name="episode-care-plan-item",
    ),
    path(
        "episodes/<int:episode_id>/transitions/<str:name>/",
        views.EpisodeTransitionApi.as_view(),
        name="episode-transition",
    ),
    path(
        "episodes/<int:episode_id>/timeline/",
        views.EpisodeTimelineApi.as_view(),
        name="episode-timeline",
    ),
    path(
        "episodes/<int:episode_id>/reminders/",
        views.EpisodeReminderListApi.as_view(),
        name="episode-reminders",
    ),
    path(
        "episodes/<int:episode_id>/replies/<int:reply_id>/read/",
        views.ReplyReadApi.as_view(),
        name="episode-reply-read",
    ),
    path("queues/", views.QueueListApi.as_view(), name="queues"),
    path("queues/<str:name>/", views.QueueEpisodeListApi.as_view(), name="queue"),
    # Last: any other URL under /api/ is a JSON 404 in the API's error shape.
    re_path(r"^.*$", views.ApiNotFoundApi.as_view(), name="api-not-found"),
]
