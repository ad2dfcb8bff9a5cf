"""Fault: a worker killed with SIGKILL while it sends an email batch, over SMTP and Postmark.

Real beat (1 s tick) and a worker under scripts/respawn.sh, on a private Redis. Four
patients by email, each with two due emails (theirs and the care team's): one batch of
six. The third email is written to the inbox (the SMTP server took it) and its send never
returns; the worker is killed while it waits. SMTP cannot be asked what it took, so the
email in doubt is sent again: over SMTP a chunk is one email, so at most one is in doubt
at a time. Counted at the inbox afterwards: every email delivered, at most one twice.

Over Postmark (its fake, tests/notifications/fake_postmark.py: every accepted call is a
message in the inbox) the chunk of six is begun together and the third send is accepted
and its answer held back; after the kill, the new worker asks Postmark's outbound search
about each email in doubt, finds the three it took and sends the other three: every
email in the inbox once.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from episodes import services
from notifications.models import DeliveryAttempt
from tests.chaos.hanging_mail import MARKER
from tests.chaos.harness import (
    FIGURES_DIR,
    check_and_record,
    due_rows,
    respawned_then_done,
    wait_for,
)
from tests.factories import PatientFactory
from tests.notifications.e2e import daytime_zone

pytestmark = pytest.mark.chaos
PATIENTS = 4
HANG_ON = 3


def email_patient_episodes(team, by, count: int) -> list:
    """``count`` patients by email, 15 days after onset: the 2-week reminders are due."""
    zone = daytime_zone()
    today = datetime.now(ZoneInfo(zone)).date()
    return [
        services.episode_create(
            patient=PatientFactory(
                care_team=team, timezone=zone, preferred_channel="email", sms_consent=False,
                email=f"patient{n}@example.org",
            ),
            by=by,
            symptom_onset=today - timedelta(days=15),
        )
        for n in range(count)
    ]  # fmt: skip


def test_worker_killed_mid_email_batch_at_most_one_email_twice(rig, team, coordinator):
    rig.batch_size = 6
    rows = due_rows(email_patient_episodes(team, coordinator, PATIENTS))
    assert {r.channel for r in rows} == {"email"}
    worker = rig.worker("worker", respawn=True, CAREFLOW_CHAOS_EMAIL_HANG_ON=str(HANG_ON))
    first_pid = worker.proc.child_pid()
    rig.beat("beat")

    wait_for(
        (rig.mail_dir / MARKER).exists,
        timeout=60,
        what=f"the worker to write its email number {HANG_ON}",
    )
    in_flight = DeliveryAttempt.objects.filter(reminder__in=rows, outcome="in_flight").count()
    os.kill(first_pid, signal.SIGKILL)
    # Over SMTP one email is begun at a time: only the hung one is in doubt.
    assert in_flight == 1

    respawned_then_done(worker, first_pid, rows)

    figures = check_and_record(
        "worker_sigkill_email_smtp",
        rows,
        rig.provider,
        rig.mail_dir,
        notes={"emails_in_flight_at_kill": in_flight, "worker_respawns": worker.proc.respawns()},
    )
    assert figures.lost == 0
    assert figures.duplicated_email <= 1


def test_worker_killed_mid_email_batch_over_postmark_every_email_once(rig, team, coordinator):
    from tests.notifications.fake_postmark import SERVER_TOKEN, start_fake_postmark  # noqa: PLC0415

    postmark, server = start_fake_postmark()
    try:
        rig.batch_size = 6
        rows = due_rows(email_patient_episodes(team, coordinator, PATIENTS))
        postmark.hang_on_call = HANG_ON
        worker = rig.worker(
            "worker",
            respawn=True,
            CAREFLOW_CHAOS_POSTMARK="true",
            POSTMARK_SERVER_TOKEN=SERVER_TOKEN,
            POSTMARK_API_URL=postmark.url,
        )
        first_pid = worker.proc.child_pid()
        rig.beat("beat")

        assert postmark.hanging.wait(timeout=60), f"the worker never sent email {HANG_ON}"
        in_flight = DeliveryAttempt.objects.filter(reminder__in=rows, outcome="in_flight").count()
        os.kill(first_pid, signal.SIGKILL)
        postmark.release.set()  # the answer goes to a dead socket
        assert in_flight == rig.batch_size  # Postmark's chunk was begun together

        respawned_then_done(worker, first_pid, rows)

        inbox = postmark.inbox()
        keys = [f"reminder-{r.pk}" for r in rows]
        assert [inbox[k] for k in keys] == [1] * len(rows), inbox  # every email once, none lost
        reconciled = DeliveryAttempt.objects.filter(reminder__in=rows, outcome="reconciled")
        assert reconciled.count() == HANG_ON  # the three Postmark took, found by its search
        FIGURES_DIR.mkdir(parents=True, exist_ok=True)
        (FIGURES_DIR / "worker_sigkill_email_postmark.json").write_text(
            json.dumps(
                {
                    "fault": "worker_sigkill_email_postmark",
                    "due": len(rows),
                    "delivered_once": sum(inbox[k] == 1 for k in keys),
                    "lost": sum(inbox[k] == 0 for k in keys),
                    "duplicated_email": sum(inbox[k] > 1 for k in keys),
                    "interrupted_attempts": in_flight,
                    "reconciled": reconciled.count(),
                },
                indent=2,
            )
        )
    finally:
        server.shutdown()
        server.server_close()
