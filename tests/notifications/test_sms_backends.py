"""The SMS adapters: Twilio's REST API (against a local fake) and the file backend."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.channels.base import PermanentSendError, TransientSendError
from notifications.channels.sms import FileSmsBackend, TwilioSmsBackend, get_sms_backend
from tests.notifications.fake_twilio import ACCOUNT_SID, FROM_NUMBER


def test_twilio_posts_the_form_with_basic_auth_and_the_idempotency_token(twilio):
    sid = get_sms_backend().send(to="+15557654321", body="Hi Ana", idempotency_key="reminder-9")

    (call,) = twilio.calls
    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.authorized
    assert (call.to, call.body, call.token) == ("+15557654321", "Hi Ana", "reminder-9")
    assert sid == twilio.delivered["reminder-9"]


def test_twilio_resend_with_the_same_token_is_one_message(twilio):
    backend = TwilioSmsBackend()
    first = backend.send(to="+15557654321", body="Hi", idempotency_key="reminder-9")
    second = backend.send(to="+15557654321", body="Hi", idempotency_key="reminder-9")

    assert first == second
    assert (len(twilio.calls), len(twilio.delivered)) == (2, 1)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(twilio, status):
    twilio.fail_next(status)

    with pytest.raises(TransientSendError, match=f"Twilio HTTP {status}"):
        TwilioSmsBackend().send(to="+15557654321", body="Hi", idempotency_key="reminder-1")


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_client_errors_are_permanent(twilio, status):
    twilio.fail_next(status, {"code": 21610, "message": "Attempt to send to unsubscribed"})

    with pytest.raises(PermanentSendError, match=f"Twilio HTTP {status} \\(error 21610\\)"):
        TwilioSmsBackend().send(to="+15557654321", body="Hi", idempotency_key="reminder-1")


def test_wrong_credentials_are_permanent(settings, twilio):
    settings.TWILIO_AUTH_TOKEN = "wrong"  # noqa: S105 - a test value

    with pytest.raises(PermanentSendError, match="HTTP 401"):
        TwilioSmsBackend().send(to="+15557654321", body="Hi", idempotency_key="reminder-1")
    assert twilio.delivered == {}


def test_a_provider_that_does_not_answer_in_time_is_transient(settings, twilio):
    settings.CAREFLOW_SMS_TIMEOUT_SECONDS = 0.5
    twilio.hang_on_call = 1

    with pytest.raises(TransientSendError, match="Twilio unreachable"):
        TwilioSmsBackend().send(to="+15557654321", body="Hi", idempotency_key="reminder-1")


def test_a_refused_connection_is_transient(settings, twilio):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TWILIO_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(TransientSendError, match="Twilio unreachable"):
        TwilioSmsBackend().send(to="+15557654321", body="Hi", idempotency_key="reminder-1")


def test_twilio_without_credentials_refuses_to_start(settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend()


def test_twilio_refuses_a_base_url_that_is_not_http(settings, twilio):
    settings.TWILIO_BASE_URL = "file:///etc"

    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend()


def test_file_backend_writes_one_file_per_message_named_by_key(tmp_path):
    backend = FileSmsBackend(tmp_path)

    first = backend.send(to="+15557654321", body="Hi", idempotency_key="reminder-3")
    backend.send(to="+15557654321", body="Hi", idempotency_key="reminder-3")

    files = sorted(tmp_path.glob("reminder-3-*.json"))
    assert len(files) == 2  # no memory of earlier sends: docs/REMINDERS.md says so
    records = [json.loads(f.read_text()) for f in files]
    assert first in {r["id"] for r in records}
    assert {r["idempotency_key"] for r in records} == {"reminder-3"}


def test_file_backend_path_comes_from_settings(settings, tmp_path):
    settings.CAREFLOW_SMS_BACKEND = "notifications.channels.sms.FileSmsBackend"
    settings.CAREFLOW_SMS_FILE_PATH = tmp_path / "sms"

    get_sms_backend().send(to=FROM_NUMBER, body="Hi", idempotency_key="reminder-4")

    assert len(list((tmp_path / "sms").glob("reminder-4-*.json"))) == 1


def test_the_fake_server_handles_concurrent_calls(twilio):
    backend = TwilioSmsBackend()
    threads = [
        threading.Thread(
            target=backend.send,
            kwargs={"to": "+15557654321", "body": "Hi", "idempotency_key": f"reminder-{n}"},
        )
        for n in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(twilio.delivered) == 5
