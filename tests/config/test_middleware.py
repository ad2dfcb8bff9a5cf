"""config.middleware: the same headers as django-csp's middleware and Django's never-cache."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings
from django.utils.cache import add_never_cache_headers

from config.middleware import CSPMiddleware, NoStoreMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _answer(middleware: type, view: Callable[[HttpRequest], HttpResponse], path: str) -> dict:
    response = middleware(view)(RequestFactory().get(path))
    return {name: response.get(name) for name in HEADERS}


def _plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def _updated(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok")
    response._csp_update = {"style-src": ["'unsafe-inline'"]}  # noqa: SLF001 - csp_update's
    return response


def _nonce(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.csp_nonce))


@pytest.mark.parametrize("view", [_plain, _updated, _nonce])
@pytest.mark.parametrize("path", ["/api/episodes/", "/admin/"])
def test_the_headers_are_django_csps(view: Callable, path: str) -> None:
    ours = _answer(CSPMiddleware, view, path)
    assert ours["Content-Security-Policy"]
    if view is _nonce:  # a fresh nonce each response: the same policy around it
        assert "'nonce-" not in ours["Content-Security-Policy"]
    assert ours == _answer(DjangoCSPMiddleware, view, path)


def test_a_changed_setting_is_the_policy_from_then_on() -> None:
    _answer(CSPMiddleware, _plain, "/")  # the settings' policy, built and kept
    report_only = {"DIRECTIVES": {"default-src": ["'none'"]}, "EXCLUDE_URL_PREFIXES": ["/api/"]}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        for path in ("/", "/api/episodes/"):
            ours = _answer(CSPMiddleware, _plain, path)
            assert ours == _answer(DjangoCSPMiddleware, _plain, path)
        assert ours["Content-Security-Policy-Report-Only"] is None  # an excluded prefix
        assert _answer(CSPMiddleware, _plain, "/")["Content-Security-Policy-Report-Only"] == (
            "default-src 'none'"
        )
    assert _answer(CSPMiddleware, _plain, "/")["Content-Security-Policy-Report-Only"] is None


def _cached(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok")
    response["Cache-Control"] = "public, max-age=600"
    return response


@pytest.mark.parametrize("view", [_plain, _cached])
def test_no_store_is_djangos_never_cache(view: Callable) -> None:
    ours = NoStoreMiddleware(view)(RequestFactory().get("/"))
    django_s = view(RequestFactory().get("/"))
    add_never_cache_headers(django_s)
    assert ours["Cache-Control"] == django_s["Cache-Control"]
    assert "no-store" in ours["Cache-Control"]
    assert ours["Expires"][-4:] == django_s["Expires"][-4:] == " GMT"
