"""The second step of signing in: a code from an authenticator app, or setting one up.

Reached only with a pending sign-in (the password was right: ``infra.second_factor``);
without one, or after ``PENDING_SECONDS``, both pages send the user back to the password.
Each code POST counts against the same per-address sign-in rate as the password page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from infra import second_factor
from infra.login import login_limited

LIMITED = gettext_lazy("Too many sign-in attempts from this address: try again in a minute.")


def _page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """A code page, its problem in the workspace's error summary (partials/error_summary.html)."""
    limited = status == 429  # noqa: PLR2004 - Too Many Requests
    summary = (
        [{"text": LIMITED}] if limited else [{"href": "#id_code", "text": error}] if error else []
    )
    return render(
        request,
        template,
        {**context, "error": error, "summary": summary},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    user = second_factor.pending_user(request)
    if user is None:
        return redirect("workspace:login")
    if not second_factor.has_device(user):
        return redirect("workspace:login-enrol")
    error = None
    if request.method == "POST":
        if login_limited(request, "workspace-login"):
            return _page(request, "workspace/login_code.html", {}, status=429)
        code = request.POST.get("code", "")
        waits = second_factor.code_waits(user=user, code=code)
        device = None if waits else second_factor.code_verify(user=user, code=code)
        if device is not None:
            return redirect(second_factor.pending_complete(request, user=user, device=device))
        if not code.strip():
            error = _("Enter the code from your authenticator app")
        elif waits:
            error = _("Too many wrong codes: wait a few seconds, then enter the code again")
        else:
            error = _(
                "The code is not right or has expired: enter the code your app shows now, "
                "or one of your recovery codes"
            )
    return _page(
        request, "workspace/login_code.html", {}, error=error, status=400 if error else 200
    )


@never_cache
@require_http_methods(["GET", "POST"])
def login_enrol(request: HttpRequest) -> HttpResponse:
    user = second_factor.pending_user(request)
    if user is None:
        return redirect("workspace:login")
    if second_factor.has_device(user):
        return redirect("workspace:login-code")
    # The secret is made when the page is first shown and kept until a code confirms it, so
    # reloading the page does not invalidate what the app has already scanned.
    device = second_factor.app_enrol_begin(user=user)
    context = {
        "qr": second_factor.app_qr_data_uri(device),
        "secret": second_factor.app_secret(device),
    }
    error = None
    if request.method == "POST":
        if login_limited(request, "workspace-login"):
            return _page(request, "workspace/login_enrol.html", context, status=429)
        code = request.POST.get("code", "")
        waits = bool(code.strip()) and not device.verify_is_allowed()[0]
        confirmed = None if waits else second_factor.app_enrol_confirm(user=user, code=code)
        if confirmed is not None:
            device, codes = confirmed
            next_url = second_factor.pending_complete(request, user=user, device=device)
            # Shown in this answer only, never stored in the clear: a reload shows them no more.
            return render(
                request, "workspace/login_recovery_codes.html", {"codes": codes, "next": next_url}
            )
        if not code.strip():
            error = _("Enter the code from your authenticator app")
        elif waits:
            error = _("Too many wrong codes: wait a few seconds, then enter the code again")
        else:
            error = _("The code is not right or has expired: enter the code your app shows now")
    return _page(
        request, "workspace/login_enrol.html", context, error=error, status=400 if error else 200
    )
