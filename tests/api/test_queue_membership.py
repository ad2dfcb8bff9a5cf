"""Every queue holds what careflow says it holds, in careflow's order: worked out in Python.

Each queue is defined once, as SQL (``episodes.selectors.queues``). This test does not ask
that SQL again: it builds episodes through the services (patients in three time zones, on
a moment when their local dates differ), works out each queue's membership and order from
careflow (``deadlines``, ``urgent_rank``, the patient's local date) and the rows themselves
(reminders that failed, replies unread), and compares with every page of the API, the
counts, and the workspace's filtered pages.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from careflow.deadlines import REASSESSMENT, deadlines
from careflow.schedule import DUE_SOON_DAYS
from careflow.states import TERMINAL_STATES, State
from careflow.urgency import pressing_order, urgent_rank
from episodes import services
from episodes.models import Episode
from episodes.selectors import QUEUES, episode_facts
from notifications import services as notifications_services
from notifications.models import PatientMessage, Reminder
from notifications.providers.events import sms_inbound_record
from tests.clients import url
from tests.factories import PatientFactory

# 10:30 UTC: already tomorrow in Kiritimati (UTC+14), still yesterday in Pago Pago (UTC-11).
NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
ZONES = ("America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago")


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def days_ago(days: int, zone: str) -> date:
    return (NOW - timedelta(days=days)).astimezone(ZoneInfo(zone)).date()


@pytest.fixture
def episodes(team, coordinator, clinician):  # noqa: PLR0915 - one scene, many cases
    """Episodes of every kind a queue tells apart, each built through the services."""
    made: list[Episode] = []
    n = 0

    def enrol(ago: int, zone: str, *, family: str = "", onset: date | None = None, **facts):
        nonlocal n
        n += 1
        patient = PatientFactory(
            care_team=team,
            timezone=zone,
            family_name=family or f"Queue{n}",
            birth_date=date(1970 + n % 20, 1 + n % 12, 1 + n % 27),
            phone=f"+1555000{n:04d}",
        )
        with at(NOW - timedelta(days=ago)):
            episode = services.episode_create(
                patient=patient,
                by=coordinator,
                symptom_onset=onset or days_ago(ago, zone),
                **facts,
            )
        made.append(episode)
        return episode

    def move(episode, name, by, day_ago, **data):
        with at(NOW - timedelta(days=day_ago)):
            services.episode_transition(episode_id=episode.pk, name=name, by=by, data=data)

    ready = {"radicular_pain": True, "conservative_therapy_failed": True, "candidate_for_esi": True}
    for zone in ZONES:
        enrol(3, zone)  # new: CC-2 and the reassessment ahead
        enrol(41, zone)  # the reassessment due tomorrow-ish: due soon, in each zone's date
        enrol(42, zone)  # the reassessment due today in each zone's date
        # The same calendar date in every zone: day 42 is 2026-12-07, today in New York,
        # yesterday in Kiritimati (overdue there), tomorrow in Pago Pago (due soon there).
        day_0 = date(2026, 10, 26)
        enrol(30, zone, family=f"Day42 {zone}", onset=day_0, conservative_care_start=day_0)
        enrol(50, zone)  # reassessment overdue
        enrol(100, zone)  # REF-1 within days
        enrol(95, zone, **ready)  # REF-1 due soon, nearer or further by zone
        late = enrol(130, zone)  # REF-1 overdue
        with at(NOW - timedelta(days=1)):
            services.episode_update(
                episode_id=late.pk, by=coordinator, fields={"assigned_to": clinician}
            )
        disabling = enrol(20, zone)  # REF-2: 14 days from the recording
        with at(NOW - timedelta(days=9)):
            services.assessment_record(
                episode_id=disabling.pk, by=coordinator, values={"disabling_pain": True}
            )
    # The pathway's states.
    eligible = enrol(60, "America/New_York", **ready)
    move(eligible, "confirm_imaging_eligibility", coordinator, 10)
    esi = enrol(70, "America/New_York", **ready)
    move(esi, "confirm_imaging_eligibility", coordinator, 20)
    move(esi, "schedule_esi", coordinator, 19, guidance="fluoroscopic",
         approach="interlaminar", patient_consented=True)  # fmt: skip
    referred = enrol(60, "Pacific/Kiritimati")
    move(referred, "refer_to_specialist", coordinator, 5, urgency="routine")
    with at(NOW - timedelta(days=4)):
        services.episode_update(
            episode_id=referred.pk, by=coordinator, fields={"assigned_to": coordinator}
        )
    # Urgent: not acted on (RF-4 older, RF-1 newer), and a report after the referral.
    fever = enrol(30, "America/New_York")
    with at(NOW - timedelta(days=6)):
        services.red_flag_raise(episode_id=fever.pk, sign="fever", by=coordinator)
    cauda = enrol(30, "Pacific/Pago_Pago", family="Saddle")
    with at(NOW - timedelta(hours=3)):
        services.red_flag_raise(episode_id=cauda.pk, sign="saddle_anesthesia", by=coordinator)
    again = enrol(40, "America/New_York")

    def check_in(milestone: str, overall: str, day_ago: int) -> None:
        reminder = Reminder.objects.get(episode=again, milestone=milestone, audience="patient")
        with at(NOW - timedelta(days=day_ago)):
            notifications_services.checkin_submit(
                reminder_id=reminder.pk,
                overall=overall,
                disabling_pain=False,
                symptoms=["saddle_numbness"],
            )

    check_in("2_weeks", "worse", 26)
    move(again, "refer_to_specialist", coordinator, 25, urgency="immediate")
    check_in("6_weeks", "same", 1)
    # A reminder skipped as stale and an unread reply; a closed episode with both.
    stale = enrol(25, "America/New_York")
    Reminder.objects.filter(episode=stale, milestone="2_weeks", audience="patient").update(
        status="skipped", status_reason="more than 7 days late"
    )
    closed = enrol(25, "America/New_York")
    Reminder.objects.filter(episode=closed, milestone="2_weeks", audience="patient").update(
        status="failed"
    )
    move(closed, "close", coordinator, 2, reason="transferred")
    for episode, body in ((stale, "can't feel my bottom"), (closed, "still here")):
        Reminder.objects.filter(episode=episode, milestone="2_weeks", audience="patient").update(
            channel="sms", sent_at=NOW - timedelta(days=9)
        )
        with at(NOW - timedelta(days=1)):
            sms_inbound_record(
                token=f"t{episode.pk}",
                message_sid=f"SM{episode.pk:032x}",
                from_number=episode.patient.phone,
                body=body,
            )
    return [Episode.objects.select_related("patient").get(pk=e.pk) for e in made]


def expected(episodes: list[Episode], user) -> dict[str, list[int]]:
    """Each queue's episodes in order, from careflow and the rows, never from the queue SQL."""
    out: dict[str, list[tuple[tuple, int]]] = {name: [] for name in QUEUES}
    for episode in episodes:
        facts = episode_facts(episode)
        state = State(episode.state)
        today = NOW.astimezone(ZoneInfo(episode.patient.timezone)).date()
        found = deadlines(state, facts)
        first = found[0] if found else None
        reassessment = next((d for d in found if d.kind == REASSESSMENT), None)
        is_open = state not in TERMINAL_STATES
        failed = Reminder.objects.filter(episode=episode, status__in=["failed", "skipped"])
        unread = PatientMessage.objects.filter(episode=episode, kind="reply", read_at=None)
        oldest = unread.order_by("received_at").values_list("received_at", flat=True).first()
        key = episode.pk
        # A red flag nobody has acted on, or a patient's report waiting for a clinician.
        urgent = state == State.URGENT_ESCALATION or facts.unreviewed_report_on is not None
        # The queues without an order of their own: urgent first, then the next deadline.
        pressing = pressing_order(
            urgent_rank(facts) if urgent else None, first.due if first else None, key
        )
        member = {
            "urgent": (urgent, (urgent_rank(facts), episode.urgent_since, key)),
            "overdue": (first is not None and first.due < today, (first and first.due, key)),
            "due_soon": (
                first is not None
                and first.due - timedelta(days=DUE_SOON_DAYS) <= today <= first.due,
                (first and first.due, key),
            ),
            "reassessment_due": (
                state == State.CONSERVATIVE_CARE
                and reassessment is not None
                and reassessment.due <= today,
                (reassessment and reassessment.due, key),
            ),
            "delivery_failures": (is_open and failed.exists(), (key,)),
            "unread_replies": (oldest is not None, (oldest, key)),
            "unassigned": (is_open and episode.assigned_to_id is None, pressing),
            "mine": (is_open and episode.assigned_to_id == user.pk, pressing),
        }
        for name in ("imaging_eligible", "esi", "specialist_referral", "surgical_review"):
            member[name] = (state == name, pressing)
        for name, (belongs, order) in member.items():
            if belongs:
                out[name].append((order, key))
    return {name: [key for _, key in sorted(rows)] for name, rows in out.items()}


def pages(client, name: str, size: int = 3) -> list[int]:
    ids, path = [], url(f"queues/{name}/?page_size={size}")
    while path:
        body = client.get(path).json()
        ids.extend(row["id"] for row in body["results"])
        path = body["next"]
    return ids


def test_every_queue_is_what_careflow_says_in_its_order(as_user, episodes, clinician):
    want = expected(episodes, clinician)
    # Every queue has something to show, and the zones put some episodes in and out.
    assert all(want[name] for name in QUEUES if name != "surgical_review")
    client = as_user(clinician)
    with at(NOW):
        got = {name: pages(client, name) for name in QUEUES}
        counts = {row["name"]: row["count"] for row in client.get(url("queues/")).json()}
    assert got == want
    assert counts == {name: len(ids) for name, ids in want.items()}


def test_the_local_date_decides_by_zone(as_user, episodes, clinician):
    """At one moment, a reassessment due on 2026-12-07 is due, overdue or not yet due.

    Due in New York, overdue in Kiritimati and not yet due in Pago Pago (PATHWAY.md: queue
    dates are each patient's local date).
    """
    by_zone = {
        e.patient.timezone: e.pk for e in episodes if e.patient.family_name.startswith("Day42")
    }
    client = as_user(clinician)
    with at(NOW):
        due = pages(client, "reassessment_due", 100)
        soon = pages(client, "due_soon", 100)
        overdue = pages(client, "overdue", 100)
    assert by_zone["America/New_York"] in due
    assert by_zone["America/New_York"] in soon  # due today: not yet overdue
    assert by_zone["Pacific/Kiritimati"] in due
    assert by_zone["Pacific/Kiritimati"] in overdue
    assert by_zone["Pacific/Pago_Pago"] not in due
    assert by_zone["Pacific/Pago_Pago"] in soon


def shown(html: str) -> list[int]:
    return list(dict.fromkeys(int(i) for i in re.findall(r'href="/episodes/(\d+)/"', html)))


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("show=mine", lambda e, me: e.assigned_to_id == me.pk),
        ("show=unassigned", lambda e, me: e.assigned_to_id is None),  # noqa: ARG005
        ("state=conservative_care", lambda e, me: e.state == "conservative_care"),  # noqa: ARG005
        ("show=mine&state=specialist_referral", lambda e, me: e.assigned_to_id == me.pk
         and e.state == "specialist_referral"),
    ],
)  # fmt: skip
def test_the_workspaces_filters_keep_what_they_say(episodes, clinician, coordinator, query, keep):
    browser = Client()
    browser.force_login(coordinator)
    by_id = {e.pk: e for e in episodes}
    for name in ("urgent", "overdue", "unassigned", "specialist_referral", "mine"):
        want = [pk for pk in expected(episodes, coordinator)[name] if keep(by_id[pk], coordinator)]
        with at(NOW):
            html = browser.get(f"/queues/{name}/?{query}").content.decode()
        assert shown(html) == want[:25], (name, query)


def test_counts_up_to_a_limit_agree_with_the_queues(episodes, clinician):
    """The board's counts: whole up to the limit, one beyond it when the queue is larger."""
    from episodes.selectors import queue_counts_up_to  # noqa: PLC0415

    want = {name: len(ids) for name, ids in expected(episodes, clinician).items()}
    with at(NOW):
        whole = queue_counts_up_to(user=clinician, now=NOW, at_most=10_000)
        capped = queue_counts_up_to(user=clinician, now=NOW, at_most=2, exact=frozenset({"urgent"}))
    assert whole == want
    assert capped == {name: n if name == "urgent" else min(n, 3) for name, n in want.items()}
