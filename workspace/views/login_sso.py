"""Signing in through the organisation's OpenID provider: the way out and the way back.

``/login/sso/`` sends the browser to the provider with a fresh ``state``, ``nonce`` and PKCE
verifier kept in the session (mozilla-django-oidc); ``/login/sso/callback/`` takes the
provider's answer once: the state is deleted as it is used, so a replayed answer finds none
and is refused. Who gets in, with which teams and roles, is ``api.sso``. A refusal shows the
sign-in page with the reason (400 for a broken or replayed answer, 403 for the policy's
no), never an error page; both answer 404 while no provider is configured.
"""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from api.sso import FAILED, REFUSAL_ATTR, SIGNED_IN_BY, sso_configured
from workspace.views.login import login_page


class SsoStartView(OIDCAuthenticationRequestView):
    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_configured():
            raise Http404
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_configured():
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation:  # a state this session did not start, or used already
            return login_page(request, sso_error=str(FAILED), status=400)

    def login_failure(self) -> HttpResponse:
        refusal = getattr(self.request, REFUSAL_ATTR, None)
        if refusal is not None and refusal != str(FAILED):
            return login_page(self.request, sso_error=refusal, status=403)
        return login_page(self.request, sso_error=str(FAILED), status=400)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        # How this session was signed in, the provider's factors included (also kept on the
        # user's SignInIdentity): the provider's second factor stands for Careflow's own.
        identity = self.user.sign_in_identity
        self.request.session[SIGNED_IN_BY] = {"provider": identity.issuer, "amr": identity.last_amr}
        return response
