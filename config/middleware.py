"""The project's own middleware: no-store on every response, and django-csp's, built once.

``NoStoreMiddleware``: ``Cache-Control: no-store`` on every response that can carry a
patient's data. The API's and the FHIR facade's answers, the workspace's pages, the
check-in page (it pre-fills earlier answers) and the admin: no browser, proxy or shared
cache may keep them. Every response the app itself makes is marked: a list of private paths
would miss the next page someone adds. Static files (served by whitenoise before this
middleware) keep their own long-lived caching.
https://www.rfc-editor.org/rfc/rfc9111#name-no-store

``CSPMiddleware``: django-csp's Content-Security-Policy, its headers built from the settings
once rather than on every response.
"""

from __future__ import annotations

import http
import time
from collections.abc import Callable
from functools import cache

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

# What ``add_never_cache_headers`` makes of a response with no caching headers of its own.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control") or response.has_header("Expires"):
            add_never_cache_headers(response)  # merged with the view's own directives
        else:
            # The same two headers, written rather than parsed and merged: Django's
            # function took ~70,000 instructions a response more (callgrind).
            response.headers["Expires"] = http_date(time.time())
            response.headers["Cache-Control"] = NEVER_CACHE
        return response


# The answers django-csp leaves without a policy under DEBUG (Django's debug pages).
_DEBUG_EXEMPT = (http.HTTPStatus.INTERNAL_SERVER_ERROR, http.HTTPStatus.NOT_FOUND)
# What a view or decorator sets on a response to change or lift the policy (django-csp's
# ``csp.decorators``): a response with any of them is left to django-csp's own handling.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@cache
def _policies() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Each header with its policy from the settings, and the path prefixes it skips.

    What django-csp's ``build_policy`` makes of the settings for a response with no policy
    of its own and no nonce; empty when the setting is not there.
    """
    out = []
    for header, setting, report_only in (
        (HEADER, "CONTENT_SECURITY_POLICY", False),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
    ):
        policy = getattr(settings, setting, None) or {}
        prefixes = tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())
        out.append((header, build_policy(report_only=report_only), prefixes))
    return tuple(out)


def _settings_changed(*, setting: str, **_: object) -> None:
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        _policies.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="config.middleware.csp_policies")


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware with the settings' policies built once, not per response.

    django-csp 4 builds both headers (the policy and the report-only one) from the settings
    on every response: 3 % of a transition's CPU (cProfile). The headers are the same for
    every response that sets no policy of its own and used no nonce, so those get the
    strings built once (``_policies``, rebuilt when a test overrides the settings); any
    other response (a ``csp_update``'d view, a nonce in its page, a 404 or 500 under
    ``DEBUG``) goes through django-csp's own ``process_response``.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or (settings.DEBUG and response.status_code in _DEBUG_EXEMPT)
            or any(hasattr(response, name) for name in _PER_RESPONSE)
        ):
            return super().process_response(request, response)
        for header, policy, prefixes in _policies():
            if policy and header not in response and not request.path_info.startswith(prefixes):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
