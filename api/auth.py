"""``/api/auth/token/``: POST logs in (a new token), DELETE logs out (that token revoked).

Tokens are django-rest-knox's: stored as a hash, expiring after ``REST_KNOX["TOKEN_TTL"]``,
deleted on logout, on a password change and on deactivation (
``api.tokens.revoke_tokens_on_user_change``, connected in ``api.apps``). The answer keeps
API.md's ``{"token"}`` and adds ``expiry``. A user who must give a second factor at sign-in
(``api.mfa``) sends its code as ``otp`` with the password, or gets no token.

Its own module: the throttles are loaded by DRF's settings, which this view's import of
``rest_framework.views`` would otherwise make circular.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from knox.models import AuthToken
from rest_framework import exceptions, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import CareflowTokenAuthentication
from api.mfa import second_factor_asked
from api.sso import sso_configured
from api.throttles import LoginThrottle, UserThrottle
from infra import second_factor


class LockedOutError(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = "Too many failed logins: try again later or ask an administrator."


NO_DEVICE = (
    "This account signs in with a second factor and has none set up yet: "
    "sign in to the workspace once to set up an authenticator app."
)
NO_CODE = (
    "This account signs in with a second factor: send the code from its "
    "authenticator app (or a recovery code) as otp."
)
WRONG_CODE = "The code is not right or has expired: send the code the app shows now."
WAIT = "Too many wrong codes: wait a few seconds, then send the code again."
PASSWORDS_OFF = "Passwords are switched off here: users sign in through the organisation."


def second_factor_check(user: Any, code: Any) -> None:  # noqa: ANN401 - auth user, JSON value
    """The workspace's sign-in policy (``api.mfa``): a token only with the second factor too.

    A refusal is a 400 on ``otp`` in the API's validation shape, after the password was
    accepted (so it says nothing about a username without the right password).
    """
    if not second_factor_asked(user):
        return
    if not second_factor.has_device(user):
        raise exceptions.ValidationError({"otp": [NO_DEVICE]})
    if not isinstance(code, str) or not code.strip():
        raise exceptions.ValidationError({"otp": [NO_CODE]})
    if second_factor.code_waits(user=user, code=code):
        raise exceptions.ValidationError({"otp": [WAIT]})
    if second_factor.code_verify(user=user, code=code) is None:
        raise exceptions.ValidationError({"otp": [WRONG_CODE]})


class _LogoutPermission(IsAuthenticated):
    """POST is open (it is the login); DELETE needs the token it revokes."""

    def has_permission(self, request: Request, view: Any) -> bool:  # noqa: ANN401
        if request.method == "POST":
            return True
        return super().has_permission(request, view)


class TokenObtainApi(APIView):
    throttle_classes = (LoginThrottle,)
    renderer_classes = (JSONRenderer,)
    authentication_classes = (CareflowTokenAuthentication,)
    permission_classes = (_LogoutPermission,)

    def get_throttles(self) -> list[Any]:
        # The login's per-address rate limits logins; a logout counts as any API request.
        if self.request.method == "DELETE":
            return [UserThrottle()]
        return super().get_throttles()

    def get_authenticators(self) -> list[Any]:
        # A login must not fail because the client also sent an old, expired token.
        request = getattr(self, "request", None)  # None while the schema is generated
        if request is not None and request.method == "POST":
            return []
        return super().get_authenticators()

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # noqa: ARG002
        # The workspace's policy (workspace.views.login.ways_in): no password is checked.
        if not settings.CAREFLOW_LOCAL_PASSWORDS and sso_configured():
            raise exceptions.PermissionDenied(PASSWORDS_OFF)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except exceptions.ValidationError:
            # django-axes refused the login (Django's authenticate() swallows its
            # PermissionDenied) and marked the request: say so, not "wrong password".
            if getattr(request, "axes_locked_out", False):
                raise LockedOutError from None
            raise
        user = serializer.validated_data["user"]
        second_factor_check(user, request.data.get("otp"))
        instance, token = AuthToken.objects.create(user=user)
        return Response({"token": token, "expiry": instance.expiry})

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # noqa: ARG002
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
