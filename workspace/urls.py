"""URLs of the coordinator workspace, included at the site root."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from workspace import report_views, views

app_name = "workspace"

urlpatterns = [
    path("", views.board, name="board"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="workspace/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("pathway.svg", views.pathway_picture, name="pathway"),
    path("queues/<str:name>/", views.queue, name="queue"),
    path("enrol/", views.enrol, name="enrol"),
    path("reports/adherence/", report_views.report, name="report"),
    path("reports/adherence/episodes/", report_views.report_episodes, name="report-episodes"),
    path("episodes/<int:episode_id>/", views.episode, name="episode"),
    path("episodes/<int:episode_id>/assign/", views.episode_assign, name="assign"),
    path(
        "episodes/<int:episode_id>/transitions/<str:name>/",
        views.transition,
        name="transition",
    ),
    path("episodes/<int:episode_id>/red-flags/", views.red_flag_raise, name="red-flag-raise"),
    path(
        "episodes/<int:episode_id>/red-flags/<int:flag_id>/rule-out/",
        views.red_flag_rule_out,
        name="red-flag-rule-out",
    ),
    path(
        "episodes/<int:episode_id>/red-flag-reports/<int:report_id>/review/",
        views.red_flag_report_review,
        name="red-flag-report-review",
    ),
    path("episodes/<int:episode_id>/assessments/", views.assessment_record, name="assessment"),
    path("episodes/<int:episode_id>/imaging/", views.imaging_record, name="imaging"),
    path("episodes/<int:episode_id>/care-plan/", views.care_plan_add, name="care-plan"),
    path("episodes/<int:episode_id>/outreach/", views.outreach_add, name="outreach"),
    path(
        "episodes/<int:episode_id>/replies/<int:reply_id>/read/",
        views.reply_read,
        name="reply-read",
    ),
]
