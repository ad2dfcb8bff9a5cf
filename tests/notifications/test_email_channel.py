"""Email through Django's backends, the reminder's id as Message-ID; SMTP errors classified."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail

from notifications.channels.base import PermanentSendError, TransientSendError
from notifications.channels.email import send_email


def test_the_message_id_is_derived_from_the_reminder(settings):
    settings.CAREFLOW_PUBLIC_BASE_URL = "https://careflow.example.org"

    message_id = send_email(
        to="a@example.org", subject="S", body="B", idempotency_key="reminder-12"
    )

    assert message_id == "<reminder-12@careflow.example.org>"
    (sent,) = mail.outbox
    assert sent.message()["Message-ID"] == "<reminder-12@careflow.example.org>"
    assert sent.to == ["a@example.org"]


def test_no_address_is_permanent():
    with pytest.raises(PermanentSendError, match="no email address"):
        send_email(to="", subject="S", body="B", idempotency_key="reminder-1")


class _Failing:
    error: Exception

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):  # noqa: ARG002 - the backend's signature
        raise self.error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (smtplib.SMTPServerDisconnected("gone"), TransientSendError),
        (TimeoutError(), TransientSendError),
        (ConnectionRefusedError(), TransientSendError),
        (smtplib.SMTPDataError(451, b"try later"), TransientSendError),
        (smtplib.SMTPDataError(554, b"rejected"), PermanentSendError),
        (
            smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}),
            PermanentSendError,
        ),
        (
            smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"mailbox busy")}),
            TransientSendError,
        ),
    ],
)
def test_smtp_errors_are_classified(monkeypatch, error, kind):
    failing = type("Failing", (_Failing,), {"error": error})
    monkeypatch.setattr("notifications.channels.email.get_connection", failing)

    with pytest.raises(kind) as exc:
        send_email(to="a@example.org", subject="S", body="B", idempotency_key="reminder-1")
    assert "a@example.org" not in str(exc.value)
