"""The second factor at sign-in (django-otp): enrolment, codes, and the sign-in between steps.

A user who must give a second factor is not signed in after the password: the session
holds a *pending* sign-in (the user, the page to go to, since when) for
``PENDING_SECONDS``, and Django's ``login`` runs only once a code from the user's
authenticator app (a TOTP device) or one of their recovery codes (a static device, each
code deleted as it is used) is accepted. So every page behind ``login_required`` (and the
API's session authentication) is behind the second factor too, with no check per request.
The session then names the device that verified it (django-otp's ``otp_device_id``), which
the admin checks (``session_device``).

Which users must give one is the API's and the workspace's policy (``api/mfa.py``: it needs
the clinician role, which this layer cannot see); the admin, superusers only, always asks.
django-otp throttles each device after a wrong code (1 s, doubling), so a code cannot be
guessed faster than that whatever the per-address rate allows.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import django_otp
import segno
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

PENDING_KEY = "careflow_second_factor"
# Long enough to open an authenticator app (or set one up) and type a code.
PENDING_SECONDS = 600
RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
TOTP_DIGITS = 6


def pending_begin(request: HttpRequest, *, user: Any, next_url: str) -> None:  # noqa: ANN401 - auth user
    """The password was right: remember who is signing in until the second factor is given."""
    # A new session key, as Django's login() would give: a session fixed before the password
    # must not become the signed-in one.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "since": int(time.time()),
    }


def pending_user(request: HttpRequest) -> Any | None:  # noqa: ANN401 - auth user
    """The active user whose password was given in the last ``PENDING_SECONDS``, if any."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["since"] > PENDING_SECONDS:
        return None
    return get_user_model().objects.filter(pk=pending["user"], is_active=True).first()


def pending_complete(request: HttpRequest, *, user: Any, device: Device) -> str:  # noqa: ANN401 - auth user
    """Sign the user in, verified by ``device``; the page they were going to."""
    pending = request.session.pop(PENDING_KEY)
    auth_login(request, user, backend=pending["backend"])
    django_otp.login(request, device)
    return pending["next"]


def session_device(request: HttpRequest) -> Device | None:
    """The confirmed device of ``request.user`` this session was verified with, if any."""
    persistent_id = request.session.get(django_otp.DEVICE_ID_SESSION_KEY)
    if not persistent_id or not request.user.is_authenticated:
        return None
    device = Device.from_persistent_id(persistent_id)
    if device is None or device.user_id != request.user.pk or not device.confirmed:
        return None
    return device


def has_device(user: Any) -> bool:  # noqa: ANN401 - auth user
    """An authenticator app set up (recovery codes alone are not a way to sign in)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def _devices_for(user: Any, code: str) -> Any:  # noqa: ANN401 - auth user; a queryset
    """Six digits are an authenticator app's code, anything else a recovery code.

    Trying a code on a device it cannot be for would count a failure against that device's
    throttle.
    """
    model = TOTPDevice if code.isdigit() and len(code) == TOTP_DIGITS else StaticDevice
    return model.objects.devices_for_user(user, confirmed=True)


def code_waits(*, user: Any, code: str) -> bool:  # noqa: ANN401 - auth user
    """Every device ``code`` could be for refuses codes for now (django-otp's throttle)."""
    code = "".join(code.split()).lower()
    devices = list(_devices_for(user, code)) if code else []
    return bool(devices) and not any(device.verify_is_allowed()[0] for device in devices)


def code_verify(*, user: Any, code: str) -> Device | None:  # noqa: ANN401 - auth user
    """The user's device that accepts ``code`` (used up if a recovery code), or None."""
    code = "".join(code.split()).lower()
    if not code:
        return None
    for device in _devices_for(user, code):
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


@transaction.atomic
def app_enrol_begin(*, user: Any) -> TOTPDevice:  # noqa: ANN401 - auth user
    """The user's authenticator app being set up: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def app_enrol_confirm(*, user: Any, code: str) -> tuple[TOTPDevice, list[str]] | None:  # noqa: ANN401 - auth user
    """The app's first code is right: the device confirmed and new recovery codes, or None.

    Earlier recovery codes end: only the ones shown now work.
    """
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    code = "".join(code.split())
    if device is None or not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    return device, codes


def app_secret(device: TOTPDevice) -> str:
    """The secret as an app takes it typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def app_qr_data_uri(device: TOTPDevice) -> str:
    """The ``otpauth://`` address as a QR code: an SVG ``data:`` URI (CSP allows data: images)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
