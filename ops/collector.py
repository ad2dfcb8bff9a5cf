"""The patient-safety gauges, read from the database when Prometheus scrapes.

Computed at scrape time, not kept by the processes: the figures are the rows' (an urgent
episode waits unacted whether or not a process noticed), every process answers the same,
and nothing is lost when a process restarts. Each figure is one aggregate over a partial
index, with the queue's own definition (``episodes.selectors.QUEUES``), the claim's "due"
(``notifications.delivery.claims.due_rows``) and careflow's "acted on"
(``careflow.urgency.ACTED_ON_RANK``), so a gauge cannot drift from what the workspace shows.
Seven statements a scrape (docs/OPERATIONS.md has their cost at the demo and bench sizes).

Labels are statuses, rule IDs and job names only: no episode, patient or reminder is named.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterator
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from careflow.urgency import ACTED_ON_RANK
from episodes.models import Episode
from episodes.selectors import QUEUES
from notifications.delivery.claims import due_rows
from notifications.models import PatientMessage, PatientMessageKind, Reminder, ReminderStatus
from ops.heartbeats import BEAT, WORKER, job_names
from ops.models import Heartbeat

logger = logging.getLogger(__name__)

# A rule ID as careflow writes it (REF-1, RF-3, CC-1): anything else is exported as
# ``other``, so a label can never carry a value nobody chose.
_RULE = re.compile(r"^[A-Z]{2,4}-\d{1,2}$")
# Reminder statuses counted from their partial indexes (notifications.models.Reminder).
# ``scheduled`` is the whole future schedule (months ahead): counting it read 1M index
# entries in 0.5-1.2 s at the 960k-episode bench, so only its due part is exported
# (``careflow_reminders_due``); ``sent`` and ``cancelled`` grow without end and have no
# index; their flow is careflow_reminder_sends_total.
COUNTED_STATUSES = (
    ReminderStatus.SENDING,
    ReminderStatus.FAILED,
    ReminderStatus.SKIPPED,
)
_TABLE = Reminder._meta.db_table  # noqa: SLF001
# One statement; each count a literal status, so it reads that status's partial index.
_COUNTS = ", ".join(
    f"(SELECT COUNT(*) FROM {_TABLE} WHERE status = '{status.value}')"  # noqa: S608 - fixed text
    for status in COUNTED_STATUSES
)
_REMINDERS_BY_STATUS = f"SELECT {_COUNTS}"


STATEMENT_TIMEOUT_MS = 5000


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def urgent_figures(now: datetime) -> Iterator[GaugeMetricFamily]:
    """The urgent queue: episodes not yet acted on, those waiting on specialist care, the oldest."""
    unacted = Q(urgent_rank__lt=ACTED_ON_RANK)
    row = Episode.objects.filter(QUEUES["urgent"].condition(None, now)).aggregate(
        unacted=Count("pk", filter=unacted),
        acted=Count("pk", filter=~unacted),
        oldest=Min("urgent_since", filter=unacted),
    )
    family = GaugeMetricFamily(
        "careflow_urgent_episodes",
        "Episodes in the urgent queue: acted=no has no urgent referral since its flags"
        " (careflow.urgency.acted_on).",
        labels=["acted"],
    )
    family.add_metric(["no"], row["unacted"])
    family.add_metric(["yes"], row["acted"])
    yield family
    yield _gauge(
        "careflow_urgent_unacted_oldest_age_seconds",
        "How long the longest-waiting urgent episode not yet acted on has waited (0: none).",
        _age(now, row["oldest"]),
    )


def reply_figures(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Patients' replies nobody of the care team has read, and the oldest one's age."""
    row = Episode.objects.filter(QUEUES["unread_replies"].condition(None, now)).aggregate(
        episodes=Count("pk"), oldest=Min("unread_reply_since")
    )
    replies = PatientMessage.objects.filter(
        kind=PatientMessageKind.REPLY, read_at__isnull=True, episode__isnull=False
    ).count()
    yield _gauge("careflow_unread_replies", "Patient replies not yet marked read.", replies)
    yield _gauge(
        "careflow_unread_reply_episodes",
        "Episodes in the unread_replies queue.",
        row["episodes"],
    )
    yield _gauge(
        "careflow_unread_reply_oldest_age_seconds",
        "Age of the oldest unread patient reply (0: none).",
        _age(now, row["oldest"]),
    )


def overdue_figures(now: datetime) -> Iterator[GaugeMetricFamily]:
    """The overdue queue by the rule that set the missed deadline (REF-1..3, RF-n)."""
    family = GaugeMetricFamily(
        "careflow_overdue_referrals",
        "Episodes before referral whose deadline has passed, by the rule that set it.",
        labels=["rule"],
    )
    counts: dict[str, int] = {}
    for rule, count in (
        Episode.objects.filter(QUEUES["overdue"].condition(None, now))
        .values_list("next_deadline_rule")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        label = rule if _RULE.match(rule or "") else "other"
        counts[label] = counts.get(label, 0) + count
    for rule, count in sorted(counts.items()):
        family.add_metric([rule], count)
    yield family


def delivery_figures(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Dispatch lag (the oldest due reminder not yet claimed) and reminders by status."""
    row = due_rows(now).order_by().aggregate(due=Count("pk"), oldest=Min("next_attempt_at"))
    yield _gauge(
        "careflow_reminders_due",
        "Reminders due and not yet claimed by the dispatcher.",
        row["due"],
    )
    yield _gauge(
        "careflow_dispatch_lag_seconds",
        "How long the oldest due reminder has waited to be claimed (0: none waiting).",
        _age(now, row["oldest"]),
    )
    with connection.cursor() as cursor:
        cursor.execute(_REMINDERS_BY_STATUS)
        values = cursor.fetchone()
    family = GaugeMetricFamily(
        "careflow_reminders",
        "Reminders by status (sending, failed, skipped).",
        labels=["status"],
    )
    for status, value in zip(COUNTED_STATUSES, values, strict=True):
        family.add_metric([status.value], value)
    yield family


def heartbeat_figures(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Beat's and the workers' heartbeats, and each beat job's last success."""
    stamps = dict(Heartbeat.objects.values_list("name", "at"))
    for name, what in ((BEAT, "beat sent a task"), (WORKER, "a worker ran the heartbeat task")):
        at = stamps.get(name)
        yield _gauge(
            f"careflow_{name}_heartbeat_age_seconds",
            f"Seconds since {what} (+Inf: never).",
            _age(now, at) if at is not None else math.inf,
        )
    family = GaugeMetricFamily(
        "careflow_job_last_success_timestamp_seconds",
        "Unix time of each beat job's last success (0: not yet).",
        labels=["job"],
    )
    for job in job_names():
        at = stamps.get(job)
        family.add_metric([job], at.timestamp() if at is not None else 0.0)
    yield family


FIGURES = (urgent_figures, reply_figures, overdue_figures, delivery_figures, heartbeat_figures)


class PatientSafetyCollector(Collector):
    """Every figure above, at scrape time; a figure whose query fails is left out and counted.

    ``careflow_metrics_collector_up`` is 0 when any query failed (the database is down):
    the alert on it says the patient-safety figures cannot be trusted, instead of them
    silently reading as zero.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        now = timezone.now()
        up = 1
        for figures in FIGURES:
            try:
                with transaction.atomic():
                    # A scrape gives up rather than hold a connection: Prometheus's own
                    # scrape timeout is 10 s by default.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL statement_timeout = %s", [STATEMENT_TIMEOUT_MS])
                    found = list(figures(now))
                yield from found
            except Exception as exc:  # noqa: BLE001 - one failed figure must not hide the rest
                up = 0
                logger.warning("metrics: %s failed (%s)", figures.__name__, type(exc).__name__)
        yield _gauge(
            "careflow_metrics_collector_up",
            "1 when every patient-safety figure was read from the database on this scrape.",
            up,
        )
        yield _gauge(
            "careflow_metrics_collector_duration_seconds",
            "Time the patient-safety figures took to read on this scrape.",
            time.perf_counter() - started,
        )
