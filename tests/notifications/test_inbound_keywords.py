"""What an inbound SMS is: Twilio's opt-out, opt-in and help keywords, or a reply to read.

Twilio's keywords are the whole message in any case; with Advanced Opt-Out Twilio also
names them in ``OptOutType``, which wins (a Messaging Service may add words of its own).
https://help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-
"""

from __future__ import annotations

from datetime import date

import pytest

from episodes.models import Patient
from notifications.models import PatientMessageKind
from notifications.providers.events import classify_inbound
from tests.clients import client_for, url
from tests.notifications.helpers import enroll, text_us

ONSET = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("body", "opt_out_type", "kind"),
    [
        ("STOP", "", "opt_out"),
        (" revoke ", "", "opt_out"),
        ("Start", "", "opt_in"),
        ("UNSTOP", "", "opt_in"),
        ("help", "", "help"),
        ("INFO", "", "help"),
        ("ALTO", "STOP", "opt_out"),  # a word the Messaging Service added, named by Twilio
        ("AYUDA", "HELP", "help"),
        ("Stop please", "", "reply"),  # not the whole message: Twilio does not act on it
        ("Help, the pain is worse", "", "reply"),
        ("can't feel my bottom", "", "reply"),
    ],
)
def test_each_message_is_the_kind_twilio_makes_it(body, opt_out_type, kind):
    assert classify_inbound(body, opt_out_type) == PatientMessageKind(kind)


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_is_twilios_to_answer_not_a_reply_to_read(
    client, twilio, sms_episode_of, coordinator, word
):
    episode = sms_episode_of(sms_consent=True)

    text_us(client, twilio, episode.patient.phone, word)

    api = client_for(coordinator)
    assert {q["name"]: q["count"] for q in api.get(url("queues/")).json()}["unread_replies"] == 0
    timeline = api.get(url(f"episodes/{episode.pk}/timeline/")).json()
    assert [e["data"] for e in timeline if e["kind"] == "patient_message"] == [
        {"kind": "help", "body": word}
    ]
    assert Patient.objects.get(pk=episode.patient_id).sms_consent is True


def test_start_restores_what_a_stop_withdrew_and_never_grants_consent(
    client, twilio, sms_episode_of
):
    withdrew = sms_episode_of(sms_consent=True)
    never = sms_episode_of(sms_consent=False, phone="+15550001111", preferred_channel="email")

    text_us(client, twilio, withdrew.patient.phone, "STOP")
    text_us(client, twilio, withdrew.patient.phone, "START")
    text_us(client, twilio, never.patient.phone, "START")

    assert Patient.objects.get(pk=withdrew.patient_id).sms_consent is True
    assert Patient.objects.get(pk=never.patient_id).sms_consent is False


@pytest.fixture
def sms_episode_of(team, coordinator, twilio):
    from tests.factories import PatientFactory  # noqa: PLC0415 - needs the app registry

    def make(**fields):
        fields = {"phone": "+15557654321", "preferred_channel": "sms", **fields}
        return enroll(PatientFactory(care_team=team, **fields), coordinator, onset=ONSET, on=ONSET)

    return make
