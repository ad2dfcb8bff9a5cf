"""The timeline: everything that happened to an episode, from registered sources."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from episodes.models import (
    Assessment,
    CarePlanItem,
    Correction,
    Episode,
    ImagingStudy,
    RedFlag,
    RedFlagReport,
    TransitionLog,
)
from episodes.selectors.prefetch import rows_of


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened to an episode: when, what, who (a username or the source)."""

    at: datetime
    kind: str
    ref: int  # the id of the row it comes from: a stable order for events at the same instant
    by: str | None
    source: str
    data: dict[str, Any]


TimelineSource = Callable[[Episode], Iterable[TimelineEvent]]

# Each source reads its rows by one fixed statement (``prefetch.rows_of``): the episode
# page reads eleven sources, and compiling eleven querysets was a third of its CPU.
EPISODE = 't."episode_id" = %s'


def _username(user: Any) -> str | None:  # noqa: ANN401 - any auth user model, or None
    return None if user is None else user.get_username()


def _transition_events(episode: Episode) -> Iterable[TimelineEvent]:
    for log in rows_of(
        TransitionLog, where=EPISODE, args=[episode.pk], related=("by",), order=("at", "id")
    ):
        yield TimelineEvent(
            log.at,
            "transition",
            log.pk,
            _username(log.by),
            log.source,
            {
                "transition": log.transition,
                "from": log.from_state,
                "to": log.to_state,
                "body": log.body,
            },
        )


def _assessment_events(episode: Episode) -> Iterable[TimelineEvent]:
    for row in rows_of(
        Assessment,
        where=EPISODE,
        args=[episode.pk],
        related=("recorded_by",),
        order=("recorded_at", "id"),
    ):
        yield TimelineEvent(
            row.recorded_at,
            "assessment",
            row.pk,
            _username(row.recorded_by),
            row.source,
            {"values": row.values, "note": row.note},
        )


def _red_flag_events(episode: Episode) -> Iterable[TimelineEvent]:
    flags = rows_of(
        RedFlag,
        where=EPISODE,
        args=[episode.pk],
        related=("raised_by", "ruled_out_by"),
        order=("raised_at", "id"),
    )
    for flag in flags:
        about = {"red_flag": flag.pk, "sign": flag.sign, "category": flag.category}
        yield TimelineEvent(
            flag.raised_at,
            "red_flag_raised",
            flag.pk,
            _username(flag.raised_by),
            flag.source,
            {**about, "note": flag.note},
        )
        if flag.ruled_out_at is not None:
            yield TimelineEvent(
                flag.ruled_out_at,
                "red_flag_ruled_out",
                flag.pk,
                _username(flag.ruled_out_by),
                "user",
                {**about, "note": flag.ruled_out_note},
            )


def _red_flag_report_events(episode: Episode) -> Iterable[TimelineEvent]:
    """A patient's red-flag reports that raised no new flag, and their reviews.

    A report that raised its flag is on the timeline as that flag (``red_flag_raised``).
    """
    reports = rows_of(
        RedFlagReport,
        where=f"{EPISODE} AND NOT t.raised_flag",
        args=[episode.pk],
        related=("reviewed_by",),
        order=("reported_at", "id"),
    )
    for report in reports:
        about = {
            "report": report.pk,
            "sign": report.sign,
            "category": report.category,
            "red_flag": report.red_flag_id,
            "reminder": report.reminder_id,
        }
        yield TimelineEvent(
            report.reported_at, "red_flag_reported", report.pk, None, "patient", about
        )
        if report.reviewed_at is not None:
            yield TimelineEvent(
                report.reviewed_at,
                "red_flag_report_reviewed",
                report.pk,
                _username(report.reviewed_by),
                "user",
                {**about, "note": report.review_note},
            )


def _imaging_events(episode: Episode) -> Iterable[TimelineEvent]:
    studies = rows_of(
        ImagingStudy,
        where=EPISODE,
        args=[episode.pk],
        related=("recorded_by",),
        order=("recorded_at", "id"),
    )
    for study in studies:
        yield TimelineEvent(
            study.recorded_at,
            "imaging",
            study.pk,
            _username(study.recorded_by),
            "user",
            {
                "modality": study.modality,
                "performed_on": study.performed_on.isoformat(),
                "nerve_root_compression": study.nerve_root_compression,
                "level": study.level,
                "clinically_correlated": study.clinically_correlated,
            },
        )


def _care_plan_events(episode: Episode) -> Iterable[TimelineEvent]:
    items = rows_of(
        CarePlanItem,
        where=EPISODE,
        args=[episode.pk],
        related=("recorded_by",),
        order=("recorded_at", "id"),
    )
    for item in items:
        yield TimelineEvent(
            item.recorded_at,
            "care_plan_item",
            item.pk,
            _username(item.recorded_by),
            "user",
            {
                "item": item.item,
                "category": item.category,
                "started_on": item.started_on.isoformat() if item.started_on else None,
                "ended_on": item.ended_on.isoformat() if item.ended_on else None,
                "flags": item.flags,
            },
        )


def _correction_events(episode: Episode) -> Iterable[TimelineEvent]:
    # A birth date is the patient's: its correction shows on each of the patient's episodes.
    corrections = rows_of(
        Correction,
        where='(t."episode_id" = %s OR (t."patient_id" = %s AND t."episode_id" IS NULL))',
        args=[episode.pk, episode.patient_id],
        related=("by",),
        order=("at", "id"),
    )
    for row in corrections:
        yield TimelineEvent(
            row.at,
            "correction",
            row.pk,
            _username(row.by),
            "user",
            {
                "field": row.field,
                "old": row.old_value.isoformat(),
                "new": row.new_value.isoformat(),
                "reason": row.reason,
            },
        )


# A new kind of event is one more function here (or, for a higher app's rows, one
# timeline_source_register call in its AppConfig.ready): each source costs a fixed number
# of queries, whatever the number of rows.
TIMELINE_SOURCES: list[TimelineSource] = [
    _transition_events,
    _assessment_events,
    _red_flag_events,
    _red_flag_report_events,
    _imaging_events,
    _care_plan_events,
    _correction_events,
]


def timeline_source_register(source: TimelineSource) -> None:
    """Add a source a higher app owns (notifications' reminders and messages) at startup.

    The timeline is sorted by (at, kind, ref), so the order of the sources changes nothing.
    """
    if source not in TIMELINE_SOURCES:
        TIMELINE_SOURCES.append(source)


def episode_timeline(episode: Episode) -> list[TimelineEvent]:
    """Everything that happened to the episode, oldest first."""
    events = [event for source in TIMELINE_SOURCES for event in source(episode)]
    return sorted(events, key=lambda e: (e.at, e.kind, e.ref))
