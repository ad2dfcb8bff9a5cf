"""Sign-in and sign-out, whichever way they happen (password, second factor, single sign-on).

At sign-in the session is recorded (so a deactivation can end it) and says whether the user
leads a team, for the workspace's navigation: read once here, not on every page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from teams import selectors, services

LEAD_SESSION_KEY = "careflow_team_lead"


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:  # noqa: ANN401, ARG001
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    session[LEAD_SESSION_KEY] = selectors.is_team_lead(user)
    services.session_record(user=user, session_key=session.session_key)


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:  # noqa: ANN401, ARG001
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        services.session_forget(session_key=session.session_key)
