"""API tokens end with the user's password or activity (connected in ``api.apps``).

The API's tokens (django-rest-knox, ``api/auth.py``) outlive no change of their user: a
new password or a deactivation (the admin's "Deactivate") deletes every token of the user.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from knox.models import AuthToken


def revoke_tokens_on_user_change(sender: Any, instance: Any, **kwargs: Any) -> None:  # noqa: ANN401, ARG001
    """pre_save of the user model: a new password or deactivation ends every token."""
    if instance.pk is None:
        return
    before = (
        get_user_model().objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    )
    if before is None:
        return
    password, is_active = before
    if password != instance.password or (is_active and not instance.is_active):
        AuthToken.objects.filter(user_id=instance.pk).delete()
