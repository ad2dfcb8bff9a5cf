"""``Cache-Control: no-store`` on every response that can carry a patient's data.

The API's and the FHIR facade's answers, the workspace's pages, the check-in page (it
pre-fills earlier answers) and the admin: no browser, proxy or shared cache may keep them.
Every response the app itself makes is marked: a list of private paths would miss the next
page someone adds. Static files (served by whitenoise before this middleware) keep their
own long-lived caching.
https://www.rfc-editor.org/rfc/rfc9111#name-no-store
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
