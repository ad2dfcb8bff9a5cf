"""The SMS adapters: Twilio through the official library (against the faithful fake) and files."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.channels.base import PermanentSendError, TransientSendError
from notifications.channels.sms import (
    FileSmsBackend,
    TwilioSmsBackend,
    get_sms_backend,
    reminder_key_in,
)
from tests.notifications.fake_twilio import ACCOUNT_SID, FROM_NUMBER

PHONE = "+15557654321"


def test_twilio_creates_the_message_through_the_library_with_a_status_callback(twilio):
    sid = get_sms_backend().send(to=PHONE, body="Hi Ana", idempotency_key="reminder-9")

    (call,) = twilio.creates()
    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call.authorized
    (message,) = twilio.messages_to(PHONE)
    assert (message.sid, message.body, message.from_) == (sid, "Hi Ana", FROM_NUMBER)
    assert message.status_callback.endswith("/webhooks/twilio/status/?reminder=reminder-9")


def test_twilio_does_not_dedupe_a_repeated_create(twilio):
    """Twilio documents no idempotency key for creating a message: two creates, two SMS."""
    backend = TwilioSmsBackend()
    first = backend.send(to=PHONE, body="Hi", idempotency_key="reminder-9")
    second = backend.send(to=PHONE, body="Hi", idempotency_key="reminder-9")

    assert first != second
    assert len(twilio.messages_to(PHONE)) == 2


def test_find_sent_matches_the_reminder_named_by_the_check_in_link(twilio, settings):
    from notifications.checkins.tokens import checkin_url_for  # noqa: PLC0415

    class Row:
        pk = 41

    backend = TwilioSmsBackend()
    since = datetime.now(UTC)
    backend.send(to=PHONE, body=f"Hi: {checkin_url_for(Row())}", idempotency_key="reminder-41")
    Row.pk = 42
    sid = backend.send(
        to=PHONE, body=f"Hi: {checkin_url_for(Row())}", idempotency_key="reminder-42"
    )

    assert backend.find_sent(to=PHONE, since=since, idempotency_key="reminder-42") == sid
    assert backend.find_sent(to=PHONE, since=since, idempotency_key="reminder-43") is None
    assert backend.find_sent(to="+15550001111", since=since, idempotency_key="reminder-42") is None
    listed = [c for c in twilio.calls if c.method == "GET"]
    assert listed, "the reconciliation asked Twilio's list call"
    assert settings.CAREFLOW_PUBLIC_BASE_URL  # the link's base


def test_find_sent_finds_a_message_still_queued_at_twilio(twilio):
    """date_sent is empty while queued: the list is read without a DateSent filter."""
    from notifications.checkins.tokens import checkin_url_for  # noqa: PLC0415

    class Row:
        pk = 7

    twilio.send_delay = 30  # Twilio has not sent it yet
    backend = TwilioSmsBackend()
    since = datetime.now(UTC)
    sid = backend.send(to=PHONE, body=checkin_url_for(Row()), idempotency_key="reminder-7")

    assert twilio.messages_to(PHONE)[0].date_sent is None
    assert backend.find_sent(to=PHONE, since=since, idempotency_key="reminder-7") == sid


def test_the_fake_lists_by_date_sent_as_a_gmt_date_and_hides_queued_messages(twilio):
    from twilio.rest import Client  # noqa: PLC0415

    twilio.send_delay = 30
    backend = TwilioSmsBackend()
    backend.send(to=PHONE, body="queued", idempotency_key="reminder-1")
    client: Client = backend.client
    today = datetime.now(UTC)

    assert [m.body for m in client.messages.list(to=PHONE)] == ["queued"]
    assert client.messages.list(to=PHONE, date_sent_after=today - timedelta(days=1)) == []


def test_reminder_key_in_ignores_forged_or_absent_links():
    assert reminder_key_in("no link here") is None
    assert reminder_key_in("https://x/check-in/forged:token/") is None


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_transient(twilio, status):
    twilio.fail_next(status)

    with pytest.raises(TransientSendError, match=f"Twilio HTTP {status}"):
        TwilioSmsBackend().send(to=PHONE, body="Hi", idempotency_key="reminder-1")


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_other_client_errors_are_permanent(twilio, status):
    twilio.fail_next(status, {"code": 21610, "message": "Attempt to send to unsubscribed"})

    with pytest.raises(PermanentSendError, match=f"Twilio HTTP {status} \\(error 21610\\)"):
        TwilioSmsBackend().send(to=PHONE, body="Hi", idempotency_key="reminder-1")


def test_an_error_text_quoting_the_number_is_kept_without_it(twilio):
    twilio.fail_next(400, {"code": 21211, "message": f"The 'To' number {PHONE} is not valid"})

    with pytest.raises(PermanentSendError) as raised:
        TwilioSmsBackend().send(to=PHONE, body="Hi", idempotency_key="reminder-1")
    assert PHONE not in str(raised.value)


def test_wrong_credentials_are_permanent(settings, twilio):
    settings.TWILIO_AUTH_TOKEN = "wrong"  # noqa: S105 - a test value

    with pytest.raises(PermanentSendError, match="HTTP 401"):
        TwilioSmsBackend().send(to=PHONE, body="Hi", idempotency_key="reminder-1")
    assert twilio.messages == []


def test_a_provider_that_does_not_answer_in_time_is_transient(settings, twilio):
    settings.CAREFLOW_SMS_TIMEOUT_SECONDS = 0.5
    twilio.hang_on_call = 1

    with pytest.raises(TransientSendError, match="Twilio unreachable"):
        TwilioSmsBackend().send(to=PHONE, body="Hi", idempotency_key="reminder-1")
    assert len(twilio.messages_to(PHONE)) == 1  # it went out all the same


def test_a_refused_connection_is_transient(settings, twilio):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TWILIO_BASE_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(TransientSendError, match="Twilio unreachable"):
        TwilioSmsBackend().send(to=PHONE, body="Hi", idempotency_key="reminder-1")


def test_a_list_call_that_fails_is_transient_never_a_guess(twilio):
    backend = TwilioSmsBackend()
    backend.client.api.base_url = "http://127.0.0.1:9"

    with pytest.raises(TransientSendError):
        backend.find_sent(to=PHONE, since=datetime.now(UTC), idempotency_key="reminder-1")


def test_twilio_without_credentials_refuses_to_start(settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend()


def test_twilio_refuses_a_base_url_that_is_not_http(settings, twilio):
    settings.TWILIO_BASE_URL = "file:///etc"

    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend()


def test_file_backend_writes_one_file_per_message_and_finds_it_again(tmp_path):
    backend = FileSmsBackend(tmp_path)
    since = datetime.now(UTC)

    first = backend.send(to=PHONE, body="Hi", idempotency_key="reminder-3")
    backend.send(to=PHONE, body="Hi", idempotency_key="reminder-3")

    files = sorted(tmp_path.glob("reminder-3-*.json"))
    assert len(files) == 2  # no dedupe of a repeated send
    records = [json.loads(f.read_text()) for f in files]
    assert first in {r["id"] for r in records}
    assert backend.find_sent(to=PHONE, since=since, idempotency_key="reminder-3") in {
        r["id"] for r in records
    }
    assert backend.find_sent(to=PHONE, since=since, idempotency_key="reminder-4") is None


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
            kwargs={"to": PHONE, "body": "Hi", "idempotency_key": f"reminder-{n}"},
        )
        for n in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(twilio.messages_to(PHONE)) == 5
