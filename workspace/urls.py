"""URLs of the coordinator workspace, included at the site root."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from workspace import report_views
from workspace.views import (
    api_token,
    board,
    enrol,
    episode,
    episode_writes,
    login,
    login_factor,
    login_sso,
    pathway,
    privacy,
    queue,
    search,
    team,
)

app_name = "workspace"

urlpatterns = [
    path("", board.board, name="board"),
    path(
        "login/",
        login.LoginView.as_view(),
        name="login",
    ),
    path("login/code/", login_factor.login_code, name="login-code"),
    path("login/set-up/", login_factor.login_enrol, name="login-enrol"),
    path("login/sso/", login_sso.SsoStartView.as_view(), name="login-sso"),
    path("login/sso/callback/", login_sso.SsoCallbackView.as_view(), name="login-sso-callback"),
    path("api-token/", api_token.api_token, name="api-token"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("pathway.svg", pathway.pathway_picture, name="pathway"),
    path("queues/<str:name>/", queue.queue, name="queue"),
    path("search/", search.search, name="search"),
    path("privacy/access/", privacy.access_find, name="access-find"),
    path("privacy/patients/<int:patient_id>/access/", privacy.access_log, name="access-log"),
    path(
        "privacy/patients/<int:patient_id>/access.csv",
        privacy.access_log_csv,
        name="access-log-csv",
    ),
    path("enrol/", enrol.enrol, name="enrol"),
    path("team/", team.teams_led, name="teams-led"),
    path("teams/<int:team_id>/", team.team, name="team"),
    path("teams/<int:team_id>/invite/", team.team_invite, name="team-invite"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/role/",
        team.member_role,
        name="team-member-role",
    ),
    path(
        "teams/<int:team_id>/members/<int:user_id>/deactivate/",
        team.member_deactivate,
        name="team-member-deactivate",
    ),
    path("teams/<int:team_id>/lead/", team.lead_step_down, name="team-lead-step-down"),
    path("invitations/<str:token>/", team.invitation, name="invitation"),
    path("reports/adherence/", report_views.report, name="report"),
    path("reports/adherence/episodes/", report_views.report_episodes, name="report-episodes"),
    path("episodes/<int:episode_id>/", episode.episode, name="episode"),
    path("episodes/<int:episode_id>/assign/", queue.episode_assign, name="assign"),
    path(
        "episodes/<int:episode_id>/transitions/<str:name>/",
        episode_writes.transition,
        name="transition",
    ),
    path(
        "episodes/<int:episode_id>/red-flags/", episode_writes.red_flag_raise, name="red-flag-raise"
    ),
    path(
        "episodes/<int:episode_id>/red-flags/<int:flag_id>/rule-out/",
        episode_writes.red_flag_rule_out,
        name="red-flag-rule-out",
    ),
    path(
        "episodes/<int:episode_id>/red-flag-reports/<int:report_id>/review/",
        episode_writes.red_flag_report_review,
        name="red-flag-report-review",
    ),
    path(
        "episodes/<int:episode_id>/assessments/",
        episode_writes.assessment_record,
        name="assessment",
    ),
    path("episodes/<int:episode_id>/imaging/", episode_writes.imaging_record, name="imaging"),
    path("episodes/<int:episode_id>/care-plan/", episode_writes.care_plan_add, name="care-plan"),
    path("episodes/<int:episode_id>/outreach/", episode_writes.outreach_add, name="outreach"),
    path("episodes/<int:episode_id>/assignee/", episode_writes.assign, name="episode-assign"),
    path("episodes/<int:episode_id>/patient/", episode_writes.patient_update, name="patient"),
    path("episodes/<int:episode_id>/dates/", episode_writes.dates_update, name="dates"),
    path(
        "episodes/<int:episode_id>/care-plan/<int:item_id>/end/",
        episode_writes.care_plan_item_end,
        name="care-plan-item",
    ),
    path(
        "episodes/<int:episode_id>/replies/<int:reply_id>/read/",
        queue.reply_read,
        name="reply-read",
    ),
]
