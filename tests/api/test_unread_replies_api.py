"""A patient's SMS reply waits in ``unread_replies`` until the care team marks it read.

API.md "Queues": an ``unread_replies`` row carries ``reply`` (the episode's oldest unread
reply); ``POST /api/episodes/{id}/replies/{reply_id}/read/`` marks it read, keeping who and
when; another team's episode or reply is a 404. The replies come in through the service
the signed Twilio webhook calls (tests/notifications covers the webhook itself).
"""

from __future__ import annotations

import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator

from api.models import AccessRecord
from notifications.models import PatientMessage
from notifications.providers.events import sms_inbound_record
from tests.clients import client_for, url
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode


def sms(episode, body: str) -> PatientMessage:
    """The episode's patient texts ``body`` (as Twilio's inbound webhook hands it over)."""
    sid = f"SM{uuid.uuid4().hex}"
    sms_inbound_record(
        token=uuid.uuid4().hex, message_sid=sid, from_number=episode.patient.phone, body=body
    )
    return PatientMessage.objects.get(episode=episode, provider_message_id=sid)


def rows(client) -> list[tuple[int, str]]:
    results = client.get(url("queues/unread_replies/")).json()["results"]
    return [(row["id"], row["reply"]["text"]) for row in results]


def count(client) -> int:
    return {q["name"]: q["count"] for q in client.get(url("queues/")).json()}["unread_replies"]


def read(client, episode, reply):
    return client.post(url(f"episodes/{episode.pk}/replies/{reply.pk}/read/"))


@pytest.fixture
def two(team, coordinator):
    """Two episodes of Team A, each patient with a number of their own."""
    return [
        new_episode(PatientFactory(care_team=team, phone=phone), coordinator)
        for phone in ("+15550000001", "+15550000002")
    ]


def test_a_reply_waits_oldest_first_and_leaves_the_queue_once_read(as_user, coordinator, two):
    first, second = two
    with at_day(3):
        early = sms(second, "Leg numb since Sunday")
    with at_day(4):
        sms(first, "Is the physio still on?")
    with at_day(5):
        later = sms(second, "And now both legs")
    client = as_user(coordinator)

    assert rows(client) == [
        (second.pk, "Leg numb since Sunday"),
        (first.pk, "Is the physio still on?"),
    ]
    assert count(client) == 2
    page = client.get(url("queues/unread_replies/")).json()["results"][0]
    assert page["reply"] == {
        "id": early.pk,
        "text": early.body,
        "received_at": early.received_at.isoformat().replace("+00:00", "Z"),
    }
    assert {"patient_name", "state", "red_flags", "next_action", "assigned_to"} <= set(page)

    with at_day(6):
        answer = read(client, second, early)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["episode"], body["text"], body["read_by"]) == (
        early.pk,
        second.pk,
        "Leg numb since Sunday",
        coordinator.pk,
    )
    assert body["read_at"].startswith("2026-10-07")
    # The second episode waits on at its next unread reply, now the newer of the two.
    assert rows(client) == [(first.pk, "Is the physio still on?"), (second.pk, "And now both legs")]
    timeline = client.get(url(f"episodes/{second.pk}/timeline/")).json()
    replies = [e["data"] for e in timeline if e["kind"] == "patient_message"]
    assert [(r["reply"], r["read_by"], bool(r["read_at"])) for r in replies] == [
        (early.pk, coordinator.get_username(), True),
        (later.pk, None, False),
    ]

    read(client, second, later)
    read(client, first, PatientMessage.objects.get(episode=first))
    assert rows(client) == []
    assert count(client) == 0


def test_marking_read_is_for_the_episodes_care_team_and_idempotent(  # noqa: PLR0917 - actors
    as_user, coordinator, clinician, other_coordinator, superuser, two
):
    first, second = two
    reply = sms(first, "Pain is worse")
    stop = sms(second, "STOP")

    assert read(client_for(None), first, reply).status_code == 401
    assert read(as_user(other_coordinator), first, reply).status_code == 404
    assert read(as_user(coordinator), second, reply).status_code == 404  # not this episode's
    assert read(as_user(coordinator), second, stop).status_code == 404  # not a reply
    missing = client_for(coordinator).post(url(f"episodes/{first.pk}/replies/999999/read/"))
    assert missing.status_code == 404
    assert PatientMessage.objects.get(pk=reply.pk).read_at is None

    with at_day(2):
        done = read(as_user(coordinator), first, reply).json()
    with at_day(3):
        again = read(as_user(clinician), first, reply)
    assert again.status_code == 200
    assert again.json() == done  # who read it and when stay as they were
    assert read(as_user(superuser), first, reply).json() == done

    # Audited like every write: who, which patient and episode, and what was answered.
    records = AccessRecord.objects.filter(path__contains="/replies/", episode_id=first.pk)
    assert {(r.username, r.action, r.status_code, r.patient_id) for r in records} == {
        ("coord-b", "write", 404, first.patient_id),
        ("coord-a", "write", 404, first.patient_id),
        ("coord-a", "write", 200, first.patient_id),
        ("clin-a", "write", 200, first.patient_id),
        ("root-admin", "write", 200, first.patient_id),
    }


def test_the_schema_documents_the_read_endpoint_and_the_rows_reply(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/episodes/{episode_id}/replies/{reply_id}/read/"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReplyOutput"
    }
    assert {"404", "401"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    reply = components["EpisodeSummary"]["properties"]["reply"]
    assert "unread_replies" in reply["description"]
    assert "reply" not in components["EpisodeSummary"].get("required", [])
    assert set(components["QueueReply"]["properties"]) == {"id", "text", "received_at"}
    assert set(components["ReplyOutput"]["properties"]) == {
        "id",
        "episode",
        "text",
        "received_at",
        "read_at",
        "read_by",
    }
