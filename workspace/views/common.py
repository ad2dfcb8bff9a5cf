"""What several of the workspace's pages share: the login guard and a refusal in sentences."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from workspace import labels


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required; an htmx request whose session has ended sends the page to log in.

    Without it, the board's polling would swap the login page into the board itself.
    """
    guarded = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            return HttpResponseClientRedirect(reverse("workspace:login"))
        return guarded(request, *args, **kwargs)

    return wrapper


def error_sentences(exc: ValidationError) -> list[str]:
    """A service's ValidationError as the sentences a page shows, each field by its label."""
    if hasattr(exc, "error_dict"):
        return [
            f"{labels.label_for(field)}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return list(exc.messages)
