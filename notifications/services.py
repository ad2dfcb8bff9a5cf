"""Scheduling reminders from the pathway's milestones; every write in a transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from careflow.deadlines import Milestone, milestones
from careflow.reminders import milestone_why_not
from careflow.schedule import is_stale, local_due_at, out_of_quiet_hours
from careflow.states import TERMINAL_STATES, State
from episodes import services as episodes_services
from episodes.models import Episode
from episodes.selectors import episode_facts
from episodes.selectors.prefetch import related_rows
from infra.db import prepared_cursor
from notifications.channels import patient_channel_for, registered
from notifications.models import (
    RED_FLAG_MILESTONE_PREFIX,
    RED_FLAG_REPORT_MILESTONE_PREFIX,
    Audience,
    CheckIn,
    PatientMessage,
    PatientMessageKind,
    Reminder,
    ReminderChannel,
    ReminderStatus,
    is_alert,
)
from notifications.selectors import unread_replies

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from careflow.facts import Facts
    from episodes.models import Patient, RedFlag, RedFlagReport

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


def _quiet_hours() -> tuple[int, int]:
    return settings.CAREFLOW_QUIET_HOURS_START, settings.CAREFLOW_QUIET_HOURS_END


def patient_due_at(on: date, patient: Patient) -> datetime:
    """09:00 in the patient's zone on the milestone date, moved out of quiet hours."""
    zone = ZoneInfo(patient.timezone)
    start, end = _quiet_hours()
    return out_of_quiet_hours(local_due_at(on, zone), zone, start, end)


def care_team_due_at(on: date) -> datetime:
    return local_due_at(on, ZoneInfo(settings.TIME_ZONE))


def patient_channel(patient: Patient) -> str:
    """The patient's preferred channel if it can reach them, else the default (email).

    SMS reaches them with a phone and consent; the default is ``CAREFLOW_CHANNELS``' first.
    """
    return patient_channel_for(patient).name


def _still_serves(episode: Episode, milestone: Milestone, audience: str) -> str:
    """Why a reminder no longer serves (empty when it still does): careflow's rule."""
    state = State(episode.state)
    # The patient row is read only when the rule needs it (as before it was careflow's).
    opted_out = (
        audience == Audience.PATIENT and state not in TERMINAL_STATES and episode.patient.opted_out
    )
    return milestone_why_not(
        state=state,
        milestone=milestone,
        audience=audience,
        opted_out=opted_out,
        referral_made=episode.referral_made_on is not None,
    )


def reminder_why_not(reminder: Reminder) -> str:
    """Why a reminder no longer serves at send time (empty when it still does).

    Checked again by the worker just before sending, because the episode, the patient's
    consent or opt-out may have changed since the row was scheduled.
    """
    episode = reminder.episode
    if reminder.milestone.startswith(RED_FLAG_REPORT_MILESTONE_PREFIX):
        # A red-flag report on an ended episode is exactly what must reach the team.
        return ""
    if is_alert(reminder.milestone):
        state = State(episode.state)
        return f"episode {state}" if state in TERMINAL_STATES else ""
    why_not = _still_serves(episode, Milestone(reminder.milestone), reminder.audience)
    if why_not or reminder.audience != Audience.PATIENT:
        return why_not
    channel = registered().get(reminder.channel)
    # Consent withdrawn since it was scheduled (SMS); an unknown channel fails at the send.
    return channel.why_not(episode.patient) if channel is not None else ""


# No savepoint of its own: it runs inside the episode's write (the ``episode_changed``
# receiver), which rolls back with it; alone, it is its own transaction.
@transaction.atomic(savepoint=False)
def reminders_sync(*, episode: Episode, facts: Facts | None = None) -> list[Reminder]:
    """Create, reschedule or cancel the episode's milestone reminders; idempotent.

    ``facts``: the episode's facts when the caller has just read them (the
    ``episode_changed`` event hands them along); read here otherwise.

    Only rows still ``scheduled`` move: a reminder being sent, sent or failed is history
    and stays as it is. A cancelled or skipped one that was never tried is scheduled again
    when it serves again at a moment that is not stale (``_revivable``). A row whose due
    moment does not change keeps its ``next_attempt_at`` (a retry backoff or quiet-hours
    deferral is not undone by an unrelated write to the episode). A row is written only
    when it changes, and the changed rows in one statement.
    """
    # Locked: ``select_for_update().filter(episode=episode)`` as a fixed statement.
    existing = {
        (r.milestone, r.audience): r for r in related_rows(episode, "reminders", for_update=True)
    }
    patient = episode.patient
    touched: list[Reminder] = []
    changed: list[Reminder] = []
    for mark in milestones(facts if facts is not None else episode_facts(episode)):
        for audience in (Audience.PATIENT, Audience.CARE_TEAM):
            why_not = _still_serves(episode, mark.milestone, audience)
            if audience == Audience.PATIENT:
                due_at, channel = patient_due_at(mark.on, patient), patient_channel(patient)
            else:
                due_at, channel = care_team_due_at(mark.on), ReminderChannel.EMAIL
            row = existing.get((mark.milestone.value, audience))
            if row is None:
                if why_not:
                    continue
                row = Reminder.objects.create(
                    episode=episode,
                    milestone=mark.milestone.value,
                    audience=audience,
                    channel=channel,
                    milestone_date=mark.on,
                    due_at=due_at,
                    next_attempt_at=due_at,
                )
                touched.append(row)
            elif _resync_row(row, why_not=why_not, on=mark.on, due_at=due_at, channel=channel):
                changed.append(row)
                touched.append(row)
    if changed:
        now = timezone.now()
        for row in changed:
            row.updated_at = now  # auto_now, which bulk_update does not set
        _write_resynced(changed)
    return touched


# What _resync_row may change on a row (and updated_at).
RESYNCED_FIELDS = (
    "status",
    "status_reason",
    "milestone_date",
    "due_at",
    "channel",
    "next_attempt_at",
    "updated_at",
)


def _write_resynced(rows: list[Reminder]) -> None:
    """Write ``RESYNCED_FIELDS`` of ``rows`` in one UPDATE.

    A fixed statement, each field's values as one array (``_resynced_sql``): Django's
    ``bulk_update`` (``CASE WHEN id = … THEN …`` per field and row) cost ~3.7 ms of CPU to
    build for four rows, against ~0.3 ms for this, and it runs in about half of all
    transitions.
    """
    with prepared_cursor() as cursor:
        cursor.execute(
            _resynced_sql(),
            [[row.pk for row in rows]]
            + [[getattr(row, name) for row in rows] for name in RESYNCED_FIELDS],
        )


@cache
def _resynced_sql() -> str:
    """``UPDATE … FROM UNNEST(ids, each field's values) … WHERE id = …``, from the model."""
    meta = Reminder._meta  # noqa: SLF001 - Django's public _meta API
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in RESYNCED_FIELDS]
    # Each array of its column's type without a length: an explicit cast to varchar(n)
    # would cut a longer value short where the column's own assignment refuses it.
    arrays = ", ".join(
        ["%s::bigint[]"] + [f"%s::{field.db_type(connection).split('(')[0]}[]" for field in fields]
    )
    columns = ", ".join(quote(field.column) for field in fields)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    return (
        f"UPDATE {quote(meta.db_table)} AS r SET {assignments}"  # noqa: S608 - names, not data
        f" FROM UNNEST({arrays}) AS v (id, {columns}) WHERE r.{quote(meta.pk.column)} = v.id"
    )


def _resync_row(row: Reminder, *, why_not: str, on: date, due_at: datetime, channel: str) -> bool:
    """Bring an existing row in line with the episode; True when it changed (unsaved)."""
    if row.status in _REVIVABLE and not why_not:
        if not _revivable(row, due_at):
            return False
        # It serves again (PATHWAY.md "Facts change over time"): a row never tried was
        # never sent, so scheduling it again cannot send it twice.
        row.status, row.status_reason = ReminderStatus.SCHEDULED, ""
        row.milestone_date, row.due_at, row.channel = on, due_at, channel
        row.next_attempt_at = due_at
        return True
    if row.status != ReminderStatus.SCHEDULED:
        return False
    if why_not:
        row.status, row.status_reason = ReminderStatus.CANCELLED, why_not
        return True
    if (row.milestone_date, row.due_at, row.channel) == (on, due_at, channel):
        return False
    if row.due_at != due_at:
        row.next_attempt_at = due_at
    row.milestone_date, row.due_at, row.channel = on, due_at, channel
    return True


# Rows that go back to ``scheduled`` when they serve again (``_revivable`` says when).
_REVIVABLE = (ReminderStatus.CANCELLED, ReminderStatus.SKIPPED)


def _revivable(row: Reminder, due_at: datetime) -> bool:
    """Whether a cancelled or skipped row, never tried, may go again at ``due_at``.

    PATHWAY.md "Facts change over time": "A reminder skipped as stale or cancelled is
    scheduled again when a correction makes it serve again (its new date is ahead, or less
    than 7 days past)". Every path that cancels or skips a row does it before an attempt
    (the claim, or the worker's begin, which writes the attempt only for rows it sends), so
    a row with no attempts was never sent. One with attempts behind it stays as it is: an
    earlier attempt may have reached the patient (a timeout, a worker lost mid-send).
    A skipped row moves only when its due moment does (a correction): at the moment it was
    skipped at, it is still stale.
    """
    if row.attempts:
        return False
    if row.status == ReminderStatus.SKIPPED and row.due_at == due_at:
        return False
    return not is_stale(due_at, timezone.now())


@transaction.atomic
def red_flag_alert_schedule(*, red_flag: RedFlag) -> Reminder:
    """An email to the care team at once when a red flag is raised (by anyone)."""
    return _alert_schedule(
        episode_id=red_flag.episode_id,
        milestone=f"{RED_FLAG_MILESTONE_PREFIX}{red_flag.pk}",
        on=red_flag.raised_on,
    )


@transaction.atomic
def red_flag_report_alert_schedule(*, report: RedFlagReport) -> Reminder:
    """An email to the care team at once for a red-flag report that raised no new flag.

    A symptom reported again while its flag is active, or on an ended episode, is never
    absorbed (PATHWAY.md): the team is told again, whatever the episode's state.
    """
    return _alert_schedule(
        episode_id=report.episode_id,
        milestone=f"{RED_FLAG_REPORT_MILESTONE_PREFIX}{report.pk}",
        on=report.reported_on,
    )


def _alert_schedule(*, episode_id: int, milestone: str, on: date) -> Reminder:
    """The alert's row, due now.

    The row is the record; after the write commits, a dispatch is asked for at once so the
    alert does not wait for beat's next tick. If the broker cannot be reached the write
    still stands and beat's next dispatch (or ``dispatch_reminders``) sends the alert.
    """
    now = timezone.now()
    reminder, created = Reminder.objects.get_or_create(
        episode_id=episode_id,
        milestone=milestone,
        audience=Audience.CARE_TEAM,
        defaults={
            "channel": ReminderChannel.EMAIL,
            "milestone_date": on,
            "due_at": now,
            "next_attempt_at": now,
        },
    )
    if created:
        transaction.on_commit(_dispatch_now)
    logger.info("care-team alert scheduled reminder=%s", reminder.pk)
    return reminder


# Who publishes a dispatch when one is asked for: notifications.tasks registers its
# publisher at startup (NotificationsConfig.ready), so services never import the tasks
# (which import delivery, which imports services).
_dispatch_requesters: dict[str, Callable[[], None]] = {}


def on_dispatch_requested(key: str, requester: Callable[[], None]) -> None:
    """Register ``requester`` (once per ``key``) to be called when a dispatch is wanted."""
    _dispatch_requesters[key] = requester


def _dispatch_now() -> None:
    for requester in list(_dispatch_requesters.values()):
        requester()


# -- patient check-ins ------------------------------------------------------------------------
# The check-in page answers a reminder; the clinical record takes the answers from here
# (episodes never looks a reminder up: it sits below notifications).


def checkin_red_flags_report(*, reminder_id: int, symptoms: list[str]) -> list[RedFlag]:
    """The red-flag symptoms of an unfinished check-in (``episode_checkin_red_flags_report``)."""
    episodes_services.checkin_answers_validate(symptoms=symptoms)
    with transaction.atomic():
        reminder = Reminder.objects.get(pk=reminder_id)
        return episodes_services.episode_checkin_red_flags_report(
            episode_id=reminder.episode_id, reminder_id=reminder.pk, symptoms=symptoms
        )


def checkin_submit(
    *, reminder_id: int, overall: str, disabling_pain: bool, symptoms: list[str]
) -> CheckIn:
    """Record (or correct) a patient's check-in and let its answers drive the episode.

    The row is ours (one per reminder); what the answers mean for the episode is
    ``episodes.services.episode_checkin_apply``'s, in the same transaction. A check-in on a
    resolved or closed episode is recorded too: its red-flag symptoms reach the care team
    (PATHWAY.md "A red-flag report is never absorbed"); its other answers change nothing.
    """
    episodes_services.checkin_answers_validate(symptoms=symptoms, overall=overall)
    with transaction.atomic():
        reminder = Reminder.objects.get(pk=reminder_id)
        episode = episodes_services.episode_lock(reminder.episode_id)
        checkin, created = CheckIn.objects.select_for_update().get_or_create(
            reminder=reminder,
            defaults={
                "episode": episode,
                "overall": overall,
                "disabling_pain": disabling_pain,
                "symptoms": sorted(set(symptoms)),
            },
        )
        if not created:
            checkin.overall = overall
            checkin.disabling_pain = disabling_pain
            checkin.symptoms = sorted(set(symptoms))
            checkin.corrected_at = timezone.now()
            checkin.corrections += 1
            checkin.save()
        episodes_services.episode_checkin_apply(
            episode=episode,
            checkin_id=checkin.pk,
            reminder_id=reminder.pk,
            overall=overall,
            disabling_pain=disabling_pain,
            symptoms=checkin.symptoms,
        )
        logger.info("check-in recorded id=%s episode=%s", checkin.pk, episode.pk)
    return checkin


# -- patients' SMS replies --------------------------------------------------------------------


@transaction.atomic
def reply_mark_read(*, episode_id: int, reply_id: int, by: User) -> PatientMessage:
    """Mark a patient's SMS reply read by ``by``, now; one already read stays as it was.

    One SMS is one thing to read: every copy of it within the episode's care team (on the
    patient's other open episodes, or on patients sharing the number) is marked with it,
    and never a copy of another team. Each episode's ``unread_reply_since`` moves to its
    next oldest unread reply, or clears (it leaves ``unread_replies``).
    """
    reply = PatientMessage.objects.select_related("episode").get(
        pk=reply_id, episode_id=episode_id, kind=PatientMessageKind.REPLY
    )
    copies = PatientMessage.objects.filter(
        provider_message_id=reply.provider_message_id,
        kind=PatientMessageKind.REPLY,
        episode__care_team_id=reply.episode.care_team_id,
    )
    episode_ids = sorted({episode_id, *copies.values_list("episode_id", flat=True)})
    # Locked in id order (and before the replies), as the inbound SMS that sets the column.
    list(
        Episode.objects.select_for_update()
        .filter(pk__in=episode_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    reply.refresh_from_db(fields=["read_at", "read_by"])
    if reply.read_at is not None:
        return reply
    copies.filter(read_at__isnull=True).update(read_at=timezone.now(), read_by=by)
    for unread_id in episode_ids:
        oldest = unread_replies(unread_id).values_list("received_at", flat=True).first()
        Episode.objects.filter(pk=unread_id).update(unread_reply_since=oldest)
    reply.refresh_from_db(fields=["read_at", "read_by"])
    logger.info("reply read id=%s episode=%s by=%s", reply.pk, episode_id, by.pk)
    return reply
