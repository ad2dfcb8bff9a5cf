"""Fixtures for the reminder tests: the fake Twilio and Postmark behind the backends."""

from __future__ import annotations

import pytest

from tests.notifications.fake_postmark import SERVER_TOKEN, WEBHOOK_SECRET, start_fake_postmark
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
)
from tests.notifications.helpers import PUBLIC_BASE_URL


@pytest.fixture
def twilio(settings, fake_twilio):
    """SMS through TwilioSmsBackend to the fake server."""
    settings.CAREFLOW_SMS_BACKEND = "notifications.channels.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_BASE_URL = fake_twilio.url
    settings.TWILIO_STATUS_CALLBACK_URL = f"{PUBLIC_BASE_URL}/webhooks/twilio/status/"
    settings.CAREFLOW_PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.CAREFLOW_SMS_TIMEOUT_SECONDS = 2
    return fake_twilio


@pytest.fixture
def postmark(settings):
    """Email through anymail's Postmark backend to the fake server."""
    state, server = start_fake_postmark()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": SERVER_TOKEN,
        "POSTMARK_API_URL": state.url,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def sms_patient(team):
    from tests.factories import PatientFactory  # noqa: PLC0415 - needs the app registry

    return PatientFactory(
        care_team=team, preferred_channel="sms", sms_consent=True, phone="+15557654321"
    )
