"""API tokens end with the user's password or activity (connected in ``api.apps``).

The API's tokens (django-rest-knox, ``api/auth.py``) and OAuth 2 tokens
(django-oauth-toolkit, decision 0016) outlive no change of their user: a new password or a
deactivation (the admin's "Deactivate", or single sign-on's for a user the provider no
longer puts in a care team: ``api.sso``) deletes every token of the user.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from knox.models import AuthToken
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model


def tokens_end(user_id: int) -> None:
    """Every API token of the user deleted: knox's, and OAuth 2 access and refresh tokens."""
    AuthToken.objects.filter(user_id=user_id).delete()
    get_refresh_token_model().objects.filter(user_id=user_id).delete()
    get_access_token_model().objects.filter(user_id=user_id).delete()
    get_grant_model().objects.filter(user_id=user_id).delete()


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
        tokens_end(instance.pk)
