"""Dispatch speed: what a batch reads once, and what it gives back when late."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.channels import channel_for
from notifications.delivery.attempts import DeliveryCounts
from notifications.delivery.batch import begin_chunk, deliver_claimed
from notifications.delivery.claims import drain_due
from notifications.delivery.messages import BatchRenderer, render_message, rendering_once
from notifications.delivery.rows import delivery_rows
from notifications.models import Reminder
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)  # every episode's 2-week rows (patient and care team)


def _claimed(team, by, count, **patient):
    for _ in range(count):
        enroll(PatientFactory(care_team=team, **patient), by, onset=ONSET, on=ONSET)
    batches: list[tuple[list[int], str]] = []
    with CaptureQueriesContext(connection) as captured:
        drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
    # The claim reads what it needs with its rows: no statement per row (a deferred field).
    sql = [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sql) <= 10, sql
    return batches


@pytest.mark.parametrize(
    "name", ["Ana", "O'Brien", "Zoë & Li", "<b>x</b>", "Jean-Luc", "Ana\nB", " Ana "]
)
@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_template_rendered_once_per_batch_gives_each_row_its_own_message(
    team, coordinator, name, channel, language
):
    patient = {"given_name": name, "language": language, "phone": "+15551230000"}
    enroll(PatientFactory(care_team=team, **patient), coordinator, onset=ONSET, on=ONSET)
    enroll(PatientFactory(care_team=team, language=language), coordinator, onset=ONSET, on=ONSET)
    rows = list(Reminder.objects.select_related("episode__patient", "episode__care_team"))
    Reminder.objects.filter(audience="patient").update(channel=channel)
    for row in rows:
        row.refresh_from_db(fields=["channel"])
    with time_machine.travel(DUE, tick=False):  # the check-in link's signature is timed
        alone = [render_message(row) for row in rows]
        with rendering_once():
            once = [render_message(row) for row in rows]
    assert once == alone
    assert channel_for(channel).name == channel


def _statements_for_a_batch_of(team, by, episodes: int) -> int:
    """Statements a batch of ``episodes`` x 2 email rows (one chunk) takes to deliver."""
    with time_machine.travel(DUE, tick=False):
        ((ids, claim),) = _claimed(team, by, episodes)
        Reminder.objects.filter(pk__in=ids).update(channel="email")
        with CaptureQueriesContext(connection) as captured:
            assert deliver_claimed(reminder_ids=ids, claim=claim).sent == len(ids)
    Reminder.objects.filter(pk__in=ids).update(status="cancelled")
    return sum(1 for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE")))


def test_a_batchs_statements_do_not_grow_with_its_rows(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 50
    settings.CAREFLOW_REMINDER_CHUNK_SMTP = 50  # one chunk (SMTP's own is one email)
    # One read of the rows, one of the refused addresses, one chunk's begin and finish:
    # 2 and 8 rows (one chunk each) take the same statements.
    few = _statements_for_a_batch_of(team, coordinator, 1)
    assert _statements_for_a_batch_of(team, coordinator, 4) == few


def test_a_batch_out_of_time_gives_back_the_rows_it_has_not_begun(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 50
    settings.CAREFLOW_REMINDER_CHUNK_SMTP = 2
    settings.CAREFLOW_REMINDER_BATCH_SECONDS = -1  # out of time after the first chunk
    with time_machine.travel(DUE, tick=False):
        ((ids, claim),) = _claimed(team, coordinator, 3)  # 6 email rows: 3 chunks
        counts = deliver_claimed(reminder_ids=ids, claim=claim)
    assert (counts.sent, counts.released, counts.lost) == (2, 4, 0)
    statuses = sorted(Reminder.objects.filter(pk__in=ids).values_list("status", "attempts"))
    assert statuses == [("scheduled", 0)] * 4 + [("sent", 1)] * 2
    released = Reminder.objects.filter(pk__in=ids, status="scheduled")
    assert all(row.next_attempt_at == DUE and row.claim_token == "" for row in released)


TEMPLATES = Path(__file__).resolve().parents[2] / "notifications" / "templates" / "notifications"

# Two contexts per audience, unlike in every value (a 1 beside a 14: a plural that a
# template might print would differ), each printed as it is (see BatchRenderer).
CONTEXTS = {
    "patient": (
        {"given_name": "Ana", "checkin_url": "https://c.example/c/abc", "link_days": 14},
        {"given_name": "María José", "checkin_url": "https://c.example/c/xyz", "link_days": 1},
    ),
    "care_team": (
        {
            "episode_id": 7,
            "milestone_date": "2026-03-16",
            "category": "cauda_equina",
            "category_name": "Cauda equina",
            "sign": "saddle_anaesthesia",
            "raised_on": "2026-03-02",
            "source": "clinician",
        },
        {
            "episode_id": 123456,
            "milestone_date": "2027-01-01",
            "category": "infection",
            "category_name": "Infection",
            "sign": "fever",
            "raised_on": "2026-12-31",
            "source": "checkin",
        },
    ),
}


def _every_template() -> list[tuple[str, str]]:
    """(audience, template) of every message template on disk (patient/<lang>/, care_team/)."""
    found = set()
    for path in TEMPLATES.rglob("*.txt"):
        stem, _, _part = path.stem.rpartition("_")
        if not stem or path.stem.startswith("_"):
            continue  # an included fragment, not a message
        relative = path.parent.relative_to(TEMPLATES)
        found.add((relative.parts[0], f"{relative.as_posix()}/{stem}"))
    return sorted(found)


def test_every_template_on_disk_is_checked():
    templates = _every_template()
    assert ("patient", "patient/es/6_weeks") in templates
    assert ("care_team", "care_team/red_flag") in templates
    assert len(templates) >= 10


@pytest.mark.parametrize(("audience", "template"), _every_template())
def test_every_template_rendered_once_equals_its_own_render(audience, template):
    """Rendering once per batch gives each row what rendering that row alone gives it.

    Over every template on disk and every channel that renders it, so a template that one
    day puts a filter or a tag on a value (where a marker would not stand for the value)
    fails here rather than sending a wrong message.
    """
    channels = ["email"] if audience == "care_team" else ["email", "sms"]
    for name in channels:
        channel = channel_for(name)
        renderer = BatchRenderer()  # what rendering_once() puts in place for a batch
        once = [
            renderer.render(channel, "to@example.org", template, dict(context))
            for context in CONTEXTS[audience]
        ]
        alone = [
            channel.render(to="to@example.org", template=template, context=dict(context))
            for context in CONTEXTS[audience]
        ]
        assert once == alone, (template, name)
        assert once[0] != once[1]


def _lease_after_begin(team, by, *, waited_s: int) -> tuple[datetime, datetime, int]:
    """(the claim's lease, the lease after the chunk's begin, attempts) of one row."""
    with time_machine.travel(DUE, tick=False):
        ((ids, claim),) = _claimed(team, by, 1)
    claimed = Reminder.objects.get(pk=ids[0]).lease_expires_at
    # The send fails (no address): the row is begun, then given back to be retried.
    Reminder.objects.filter(pk=ids[0]).update(channel="email")
    with time_machine.travel(DUE + timedelta(seconds=waited_s), tick=False):
        rows = delivery_rows(ids[:1])
        begun = begin_chunk(list(rows.values()), claim=claim, counts=DeliveryCounts())
    row = Reminder.objects.get(pk=ids[0])
    assert [item.row.pk for item in begun] == ids[:1]
    return claimed, row.lease_expires_at, row.attempts


def test_a_chunk_begun_soon_after_its_claim_keeps_the_claims_lease(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_LEASE_SECONDS = 300
    # 3/4 of the lease is left (225 s): enough for a chunk's sends at their timeouts, so
    # the lease (an indexed column) is not rewritten and the update can be a HOT one.
    claimed, lease, attempts = _lease_after_begin(team, coordinator, waited_s=60)
    assert (lease, attempts) == (claimed, 1)


def test_a_chunk_begun_late_renews_the_lease(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_LEASE_SECONDS = 300
    claimed, lease, attempts = _lease_after_begin(team, coordinator, waited_s=100)
    assert (lease, attempts) == (DUE + timedelta(seconds=400), 1)
    assert lease > claimed
