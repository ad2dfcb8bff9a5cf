"""The check-in link: a signed token naming one reminder, expiring (default 14 days)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import signing

from notifications.checkins.tokens import checkin_token_for, checkin_url_for, reminder_id_from_token
from tests.clock import local
from tests.notifications.helpers import enroll, reminder

ONSET = date(2026, 3, 2)


@pytest.fixture
def row(patient, coordinator):
    return reminder(enroll(patient, coordinator, onset=ONSET, on=ONSET))


def test_the_token_names_the_reminder_and_the_url_is_under_the_public_base(settings, row):
    settings.CAREFLOW_PUBLIC_BASE_URL = "https://careflow.example.org"
    url = checkin_url_for(row)

    assert url.startswith("https://careflow.example.org/check-in/")
    token = url.removeprefix("https://careflow.example.org/check-in/").removesuffix("/")
    assert reminder_id_from_token(token) == row.pk
    assert str(row.episode.patient.given_name) not in token


def test_the_token_expires_after_the_configured_days(row):
    with time_machine.travel(local(date(2026, 3, 16), 9), tick=False):
        token = checkin_token_for(row)
    with time_machine.travel(local(date(2026, 3, 30), 8, 59), tick=False):
        assert reminder_id_from_token(token) == row.pk
    with (
        time_machine.travel(local(date(2026, 3, 30), 9, 1), tick=False),
        pytest.raises(signing.SignatureExpired),
    ):
        reminder_id_from_token(token)
    with time_machine.travel(local(date(2026, 3, 30), 9, 1), tick=False):
        assert reminder_id_from_token(token, max_age=timedelta(days=15)) == row.pk


def test_a_tampered_or_foreign_token_is_refused(row):
    token = checkin_token_for(row)
    with pytest.raises(signing.BadSignature):
        reminder_id_from_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with pytest.raises(signing.BadSignature):
        reminder_id_from_token(signing.dumps({"reminder": row.pk}))  # another salt
