"""An SMS from a number two care teams share reaches only the team whose reminder last went there.

PATHWAY.md "Patients also reply": a reply belongs to the patient whose reminder last went
to that number; it never reaches another care team, and a STOP changes only that team's
patient. The decoy is a patient another team enrolled with the same number.
"""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
import time_machine
from django.test import Client

from episodes.models import Patient
from notifications.models import PatientMessage
from tests.clients import client_for, url
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll, reminder, run_cycle, text_us

PHONE = "+15557654321"
THEIR_ONSET = date(2026, 3, 1)  # the decoy's 2-week reminder goes first, on 15 March
OUR_ONSET = date(2026, 3, 2)  # ours on 16 March: the last to go to the number
MESSAGE = "can't feel my bottom"


@pytest.fixture
def shared(team, other_team, coordinator, other_coordinator, twilio):
    """Each team's SMS patient on one number; our reminder went there last."""
    ours = enroll(
        PatientFactory(care_team=team, preferred_channel="sms", sms_consent=True, phone=PHONE),
        coordinator,
        onset=OUR_ONSET,
        on=OUR_ONSET,
    )
    theirs = enroll(
        PatientFactory(
            care_team=other_team, preferred_channel="sms", sms_consent=True, phone=PHONE
        ),
        other_coordinator,
        onset=THEIR_ONSET,
        on=THEIR_ONSET,
    )
    run_cycle(local(date(2026, 3, 15), 9))
    run_cycle(local(date(2026, 3, 16), 9))
    assert (reminder(theirs).status, reminder(ours).status) == ("sent", "sent")
    assert [c.to for c in twilio.creates()] == [PHONE, PHONE]
    return ours, theirs


def counts(api) -> dict[str, int]:
    return {q["name"]: q["count"] for q in api.get(url("queues/")).json()}


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_on(api, episode) -> list[tuple[str, str]]:
    timeline = api.get(url(f"episodes/{episode.pk}/timeline/")).json()
    return [
        (e["data"]["kind"], e["data"]["body"]) for e in timeline if e["kind"] == "patient_message"
    ]


def test_a_reply_reaches_only_the_team_whose_reminder_last_went_there(
    client, twilio, shared, coordinator, other_coordinator
):
    ours, theirs = shared
    with time_machine.travel(local(date(2026, 3, 16), 12), tick=False):
        text_us(client, twilio, PHONE, MESSAGE)

    api = client_for(coordinator)
    rows = api.get(url("queues/unread_replies/")).json()["results"]
    assert [(r["id"], r["reply"]["text"]) for r in rows] == [(ours.pk, MESSAGE)]
    assert counts(api)["unread_replies"] == 1
    assert messages_on(api, ours) == [("reply", MESSAGE)]
    assert MESSAGE in unescape(web(coordinator).get("/queues/unread_replies/").content.decode())

    decoy = client_for(other_coordinator)
    assert decoy.get(url("queues/unread_replies/")).json()["results"] == []
    assert counts(decoy)["unread_replies"] == 0
    assert messages_on(decoy, theirs) == []
    assert decoy.get(url(f"episodes/{ours.pk}/timeline/")).status_code == 404
    browser = web(other_coordinator)
    for page in ("/", "/queues/unread_replies/", f"/episodes/{theirs.pk}/"):
        response = browser.get(page)
        assert response.status_code == 200
        assert "bottom" not in response.content.decode()
    assert browser.get(f"/episodes/{ours.pk}/").status_code == 404
    assert not PatientMessage.objects.filter(episode__care_team=theirs.care_team).exists()


def test_the_reply_follows_the_reminder_that_went_there_last(
    client, twilio, shared, coordinator, other_coordinator
):
    ours, theirs = shared
    with time_machine.travel(local(date(2026, 3, 16), 12), tick=False):
        text_us(client, twilio, PHONE, "Better, thanks")
    run_cycle(local(date(2026, 4, 12), 9))  # the decoy's 6-week reminder: theirs is last now
    assert reminder(theirs, "6_weeks").status == "sent"
    with time_machine.travel(local(date(2026, 4, 12), 12), tick=False):
        text_us(client, twilio, PHONE, "Who is this?")

    assert messages_on(client_for(coordinator), ours) == [("reply", "Better, thanks")]
    assert messages_on(client_for(other_coordinator), theirs) == [("reply", "Who is this?")]


def test_a_stop_changes_only_the_patient_of_the_team_whose_reminder_went_there(  # noqa: PLR0917 - fixtures
    client, twilio, shared, coordinator, other_coordinator, mailoutbox
):
    ours, theirs = shared
    with time_machine.travel(local(date(2026, 3, 16), 12), tick=False):
        text_us(client, twilio, PHONE, "STOP")

    assert Patient.objects.get(pk=ours.patient_id).sms_consent is False
    assert Patient.objects.get(pk=theirs.patient_id).sms_consent is True
    assert messages_on(client_for(coordinator), ours) == [("opt_out", "STOP")]
    assert messages_on(client_for(other_coordinator), theirs) == []
    assert counts(client_for(coordinator))["unread_replies"] == 0  # a STOP is not a reply
    # Our next reminder goes by email. Theirs still tries SMS, which Twilio refuses after a
    # STOP from that phone: it fails into their delivery_failures, the message unseen.
    run_cycle(local(date(2026, 4, 12), 9))
    run_cycle(local(date(2026, 4, 13), 9))
    assert reminder(ours, "6_weeks").channel == "email"
    assert reminder(ours, "6_weeks").status == "sent"
    assert ours.patient.email in [m.to[0] for m in mailoutbox]
    assert reminder(theirs, "6_weeks").status == "failed"
    assert "21610" in reminder(theirs, "6_weeks").last_error
    failures = client_for(other_coordinator).get(url("queues/delivery_failures/")).json()
    assert [row["id"] for row in failures["results"]] == [theirs.pk]


def test_with_no_reminder_sent_a_number_of_one_team_reaches_that_team(
    client, twilio, team, coordinator
):
    mother = enroll(
        PatientFactory(care_team=team, phone=PHONE), coordinator, onset=OUR_ONSET, on=OUR_ONSET
    )
    son = enroll(
        PatientFactory(care_team=team, phone=PHONE), coordinator, onset=OUR_ONSET, on=OUR_ONSET
    )

    text_us(client, twilio, PHONE, "Which of us is this for?")

    api = client_for(coordinator)
    rows = api.get(url("queues/unread_replies/")).json()["results"]
    assert sorted(r["id"] for r in rows) == sorted([mother.pk, son.pk])
    # One SMS is one thing to read: marking it read on one episode reads it on both.
    reply = rows[0]["reply"]["id"]
    assert api.post(url(f"episodes/{rows[0]['id']}/replies/{reply}/read/")).status_code == 200
    assert api.get(url("queues/unread_replies/")).json()["results"] == []


def test_with_no_reminder_sent_a_number_two_teams_share_reaches_nobody(  # noqa: PLR0917 - fixtures
    client, twilio, team, other_team, coordinator, other_coordinator
):
    ours = enroll(
        PatientFactory(care_team=team, phone=PHONE, sms_consent=True),
        coordinator,
        onset=OUR_ONSET,
        on=OUR_ONSET,
    )
    theirs = enroll(
        PatientFactory(care_team=other_team, phone=PHONE, sms_consent=True),
        other_coordinator,
        onset=OUR_ONSET,
        on=OUR_ONSET,
    )

    text_us(client, twilio, PHONE, MESSAGE)
    text_us(client, twilio, PHONE, "STOP")

    for user, episode in ((coordinator, ours), (other_coordinator, theirs)):
        api = client_for(user)
        assert counts(api)["unread_replies"] == 0
        assert messages_on(api, episode) == []
        assert Patient.objects.get(pk=episode.patient_id).sms_consent is True
    # Kept for operations (the admin), with the number it came from, on no episode.
    kept = PatientMessage.objects.filter(episode__isnull=True).order_by("pk")
    assert [(m.kind, m.body, m.from_number) for m in kept] == [
        ("reply", MESSAGE, PHONE),
        ("opt_out", "STOP", PHONE),
    ]


def test_a_patient_with_no_open_episode_gets_the_reply_on_the_latest(
    client, twilio, shared, coordinator
):
    from episodes import services  # noqa: PLC0415 - needs the app registry

    ours, _ = shared
    with time_machine.travel(local(date(2026, 3, 16), 11), tick=False):
        services.episode_transition(
            episode_id=ours.pk, name="close", by=coordinator, version=None, data={"reason": "other"}
        )
        text_us(client, twilio, PHONE, MESSAGE)

    rows = client_for(coordinator).get(url("queues/unread_replies/")).json()["results"]
    assert [(r["id"], r["state"], r["reply"]["text"]) for r in rows] == [
        (ours.pk, "closed", MESSAGE)
    ]


def test_twilio_retrying_a_reply_records_it_once(client, twilio, shared, coordinator):
    ours, _ = shared
    with time_machine.travel(local(date(2026, 3, 16), 12), tick=False):
        first = text_us(client, twilio, PHONE, MESSAGE)
        text_us(client, twilio, PHONE, MESSAGE, again=first)  # the same delivery again
        # A retry Twilio gave a new idempotency token: the same MessageSid all the same.
        retried = type(first)(
            first.url, first.params, {**first.headers, "I-Twilio-Idempotency-Token": "other"}
        )
        text_us(client, twilio, PHONE, MESSAGE, again=retried)

    assert messages_on(client_for(coordinator), ours) == [("reply", MESSAGE)]
    assert counts(client_for(coordinator))["unread_replies"] == 1
