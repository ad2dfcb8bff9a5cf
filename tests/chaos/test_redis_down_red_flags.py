"""Fault: Redis down while patients report red flags on the check-in page.

A real gunicorn serves the check-in page with production's cache (rate-limit counters in
Redis, failing open) and publishes to the private Redis; a worker and beat (1 s tick) run
under scripts/respawn.sh. Redis is stopped; while it is down, every patient reports
saddle numbness. Each report must be answered (200) and recorded, with the care team's
alert as a row (the outbox), not as a message in a broker that is not there. Redis comes
back (empty); beat's next dispatch sends every alert. Counted: every report recorded,
every alert delivered once, none lost, none while Redis was down.
"""

from __future__ import annotations

import re
import sys
import time
from urllib.parse import urlencode

import pytest

from episodes import services
from episodes.models import RedFlag
from episodes.selectors import patient_today
from notifications.checkins.tokens import checkin_token_for
from notifications.models import RED_FLAG_MILESTONE_PREFIX, CheckIn, Reminder
from tests.chaos.harness import check_and_record, free_port, wait_for, wait_until_done
from tests.factories import PatientFactory
from tests.notifications.e2e import email_messages
from tests.proxy import request

pytestmark = pytest.mark.chaos
PATIENTS = 12
REDIS_DOWN_SECONDS = 10


def _report_saddle_numbness(url: str, reminder: Reminder) -> int:
    path = f"/check-in/{checkin_token_for(reminder)}/"
    status, headers, page = request(url, "GET", path)
    assert status == 200, page[:300]
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    form = urlencode(
        {
            "csrfmiddlewaretoken": csrf,
            "overall": "worse",
            "disabling": "yes",
            "symptoms": "saddle_numbness",
        }
    )
    status, _, _ = request(url, "POST", path, form=form, headers={"Cookie": f"csrftoken={cookie}"})
    return status


def test_redis_down_while_patients_report_red_flags(rig, team, coordinator):
    patients = [PatientFactory(care_team=team) for _ in range(PATIENTS)]
    episodes = [
        # The patient's local today: near midnight UTC the server's date is their tomorrow.
        services.episode_create(patient=p, by=coordinator, symptom_onset=patient_today(p))
        for p in patients
    ]
    reminders = [
        Reminder.objects.get(episode=e, milestone="2_weeks", audience="patient") for e in episodes
    ]
    rig.worker("worker", respawn=True)
    beat = rig.beat("beat", respawn=True)
    port = free_port()
    rig._start(  # noqa: SLF001 - the rig's own process starter, for a web process
        "web",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
        rig.env(app_name="careflow-chaos-web", CAREFLOW_CHAOS_REDIS_CACHE="1"),
        respawn=False,
    )
    url = f"http://127.0.0.1:{port}"

    def web_up() -> bool:
        try:
            return request(url, "GET", "/api/schema/")[0] == 200
        except OSError:
            return False

    wait_for(web_up, timeout=60, what="gunicorn")

    rig.broker.stop()
    started = time.monotonic()
    statuses = [_report_saddle_numbness(url, reminder) for reminder in reminders]
    reporting_seconds = time.monotonic() - started
    recorded = CheckIn.objects.filter(reminder__in=reminders).count()
    flags = list(RedFlag.objects.filter(episode__in=episodes, sign="saddle_anesthesia"))
    alerts = list(
        Reminder.objects.filter(milestone__in=[f"{RED_FLAG_MILESTONE_PREFIX}{f.pk}" for f in flags])
    )
    time.sleep(max(0.0, REDIS_DOWN_SECONDS - reporting_seconds))
    sent_while_down = sum(email_messages(rig.mail_dir).values()) if rig.mail_dir.exists() else 0
    still_scheduled = Reminder.objects.filter(
        pk__in=[a.pk for a in alerts], status="scheduled"
    ).count()
    rig.broker.start()

    assert statuses == [200] * PATIENTS
    assert recorded == PATIENTS
    assert len(flags) == PATIENTS
    assert len(alerts) == PATIENTS
    assert sent_while_down == 0
    assert still_scheduled == PATIENTS  # the outbox held them

    wait_until_done([a.pk for a in alerts], timeout=120)
    assert beat.alive()
    check_and_record(
        "redis_down_red_flags",
        alerts,
        rig.provider,
        rig.mail_dir,
        notes={
            "reports_while_redis_down": PATIENTS,
            "reports_answered_200": statuses.count(200),
            "reports_recorded": recorded,
            "alerts_held_while_down": still_scheduled,
            "seconds_to_report_all_while_down": round(reporting_seconds, 1),
            "redis_down_seconds": REDIS_DOWN_SECONDS,
        },
    )
