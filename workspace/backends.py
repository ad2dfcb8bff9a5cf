"""The sign-in backend: Django's ``ModelBackend``, its per-request user read in one statement.

Every signed-in page asks the session's backend for its user (``get_user``), then the
access checks ask for the user's care teams: two ORM queries compiled on every request.
Here they are one prepared statement, the user's team ids read beside the user
(``episodes.selectors.user_with_team_ids``), as the API's token check reads them.
Passwords, permissions and ``is_active`` are ``ModelBackend``'s, unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from episodes.selectors.access import user_with_team_ids


class SessionUserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:  # noqa: ANN401 - Django's signature
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        user = user_with_team_ids(pk)
        return user if user is not None and self.user_can_authenticate(user) else None
