"""``POST /api/auth/token/``: DRF's token view, rate-limited per address, JSON only.

Its own module: the throttles are loaded by DRF's settings, which this view's import of
``rest_framework.views`` would otherwise make circular.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from episodes.api_throttles import LoginThrottle


class LockedOutError(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = "Too many failed logins: try again later or ask an administrator."


class TokenObtainApi(ObtainAuthToken):
    throttle_classes = (LoginThrottle,)
    renderer_classes = (JSONRenderer,)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            # django-axes refused the login (Django's authenticate() swallows its
            # PermissionDenied) and marked the request: say so, not "wrong password".
            if getattr(request, "axes_locked_out", False):
                raise LockedOutError from None
            raise
