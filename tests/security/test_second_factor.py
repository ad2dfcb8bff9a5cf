"""Signing in with a second factor: clinicians and superusers always, others by setting.

Codes are computed with django-otp's own TOTP from the device's key, as an authenticator
app computes them.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from infra import second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # noqa: S105 - tests/factories.py UserFactory
QUEUE = "/queues/overdue/"


def _app_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def _recovery_codes(user, count: int = 2) -> list[str]:
    device = user.staticdevice_set.create(name="Recovery codes", confirmed=True)
    return [device.token_set.create(token=StaticToken.random_token()).token for _ in range(count)]


def _wait_out_the_throttle(user) -> None:
    """django-otp refuses every code for a second after a wrong one (doubling after each)."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )


def _password(client, user, next_url: str = "/"):
    return client.post(
        "/login/", {"username": user.username, "password": PASSWORD, "next": next_url}
    )


def _signed_in(client) -> bool:
    return SESSION_KEY in client.session


# -- the workspace ----------------------------------------------------------------------------


def test_a_clinician_is_not_signed_in_by_the_password_alone(client, clinician):
    _device(clinician)
    answer = _password(client, clinician)
    assert answer.status_code == 302
    assert answer["Location"] == "/login/code/"
    assert not _signed_in(client)
    assert client.get(QUEUE)["Location"].startswith("/login/")
    page = client.get("/login/code/")
    assert page.status_code == 200
    assert b"Enter your security code" in page.content


def test_a_clinician_is_refused_without_the_code_or_with_a_wrong_one(client, clinician):
    device = _device(clinician)
    _password(client, clinician)
    empty = client.post("/login/code/", {"code": ""})
    assert empty.status_code == 400
    assert b"Enter the code from your authenticator app" in empty.content
    assert b"nhsuk-error-summary" in empty.content
    right = _app_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused = client.post("/login/code/", {"code": wrong})
    assert refused.status_code == 400
    assert b"The code is not right or has expired" in refused.content
    assert not _signed_in(client)
    assert client.get(QUEUE).status_code == 302


def test_a_clinician_signs_in_with_the_code_from_the_app(client, clinician):
    device = _device(clinician)
    _password(client, clinician, next_url=QUEUE)
    answer = client.post("/login/code/", {"code": _app_code(device)})
    assert answer.status_code == 302
    assert answer["Location"] == QUEUE
    assert _signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(QUEUE).status_code == 200


def test_after_a_wrong_code_the_page_says_to_wait(client, clinician):
    device = _device(clinician)
    _password(client, clinician)
    right = _app_code(device)
    client.post("/login/code/", {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    waits = client.post("/login/code/", {"code": right})
    assert waits.status_code == 400
    assert b"Too many wrong codes: wait a few seconds" in waits.content
    _wait_out_the_throttle(clinician)
    assert client.post("/login/code/", {"code": right}).status_code == 302


def test_a_code_signs_in_once(client, clinician):
    device = _device(clinician)
    code = _app_code(device)
    _password(client, clinician)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    client.logout()
    _password(client, clinician)
    assert client.post("/login/code/", {"code": code}).status_code == 400


def test_a_recovery_code_works_once_and_only_once(client, clinician):
    _device(clinician)
    first, second = _recovery_codes(clinician)
    _password(client, clinician)
    assert client.post("/login/code/", {"code": first.upper()}).status_code == 302
    assert _signed_in(client)
    client.logout()
    _password(client, clinician)
    assert client.post("/login/code/", {"code": first}).status_code == 400
    assert not _signed_in(client)
    _wait_out_the_throttle(clinician)
    assert client.post("/login/code/", {"code": second}).status_code == 302


def test_the_code_page_needs_the_password_first(client, clinician):
    _device(clinician)
    assert client.get("/login/code/")["Location"] == "/login/"
    assert client.post("/login/code/", {"code": "123456"})["Location"] == "/login/"


def test_a_pending_sign_in_ends(client, clinician):
    device = _device(clinician)
    _password(client, clinician)
    session = client.session
    session[second_factor.PENDING_KEY]["since"] -= second_factor.PENDING_SECONDS + 1
    session.save()
    assert client.post("/login/code/", {"code": _app_code(device)})["Location"] == "/login/"
    assert not _signed_in(client)


def test_a_clinician_without_an_app_sets_one_up_before_any_patient_page(client, clinician):
    answer = _password(client, clinician, next_url=QUEUE)
    assert answer["Location"] == "/login/set-up/"
    assert client.get(QUEUE).status_code == 302
    page = client.get("/login/set-up/")
    assert page.status_code == 200
    assert b"data:image/svg+xml" in page.content  # the QR code
    device = TOTPDevice.objects.get(user=clinician, confirmed=False)
    secret = re.search(rb'id="secret">([A-Z2-7 ]+)<', page.content).group(1).decode()
    assert secret.replace(" ", "") in device.config_url
    # Reloading keeps the secret the app has already scanned.
    assert secret.encode() in client.get("/login/set-up/").content
    # The code page sends a user with no app to set one up.
    assert client.get("/login/code/")["Location"] == "/login/set-up/"

    refused = client.post("/login/set-up/", {"code": "000000"})
    assert refused.status_code == 400
    assert b"The code is not right or has expired" in refused.content
    assert not _signed_in(client)

    _wait_out_the_throttle(clinician)
    done = client.post("/login/set-up/", {"code": _app_code(device)})
    assert done.status_code == 200
    codes = re.findall(rb"<li><code>([a-z2-7]+)</code></li>", done.content)
    assert len(codes) == second_factor.RECOVERY_CODES
    assert QUEUE.encode() in done.content
    device.refresh_from_db()
    assert device.confirmed
    assert _signed_in(client)
    assert client.get(QUEUE).status_code == 200

    # A recovery code shown at set-up signs in once.
    client.logout()
    _password(client, clinician)
    assert client.post("/login/code/", {"code": codes[0].decode()}).status_code == 302
    client.logout()
    _password(client, clinician)
    assert client.post("/login/code/", {"code": codes[0].decode()}).status_code == 400


def test_a_coordinator_signs_in_with_the_password_alone_by_default(client, coordinator):
    answer = _password(client, coordinator, next_url=QUEUE)
    assert answer["Location"] == QUEUE
    assert _signed_in(client)
    assert client.get(QUEUE).status_code == 200


def test_the_setting_asks_everyone_for_a_second_factor(client, settings, coordinator):
    settings.CAREFLOW_MFA_REQUIRED_FOR_ALL = True
    assert _password(client, coordinator)["Location"] == "/login/set-up/"
    assert not _signed_in(client)


def test_a_coordinator_who_set_up_an_app_is_asked_for_its_code(client, coordinator):
    _device(coordinator)
    assert _password(client, coordinator)["Location"] == "/login/code/"
    assert not _signed_in(client)


def test_a_wrong_password_never_reaches_the_code(client, clinician):
    _device(clinician)
    answer = client.post("/login/", {"username": clinician.username, "password": "nope"})
    assert answer.status_code == 200
    assert client.get("/login/code/")["Location"] == "/login/"


# -- the admin --------------------------------------------------------------------------------


def test_the_admin_refuses_a_superuser_the_second_factor_did_not_verify(client, superuser):
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200  # force_login: a whole sign-in
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]
    session.save()
    answer = client.get("/admin/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/admin/login/")


def test_the_admin_login_asks_for_the_code_after_the_password(client, superuser):
    device = _device(superuser)
    answer = client.post(
        "/admin/login/", {"username": superuser.username, "password": "pw", "next": "/admin/"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/login/code/"
    assert not _signed_in(client)
    assert client.get("/admin/").status_code == 302
    signed_in = client.post("/login/code/", {"code": _app_code(device)})
    assert signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_superuser_signing_in_to_the_workspace_is_asked_too(client, superuser):
    answer = client.post("/login/", {"username": superuser.username, "password": "pw"})
    assert answer["Location"] == "/login/set-up/"
