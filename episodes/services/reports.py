"""A patient's red-flag reports: never absorbed (PATHWAY.md "A red-flag report is never absorbed").

A check-in's red-flag symptom raises its flag when the flag is not active. When it is
already active, or the episode has ended, the report is kept, alerts the care team again
and puts the episode back in the urgent queue until a clinician reviews it
(``review_patient_report``): by an assessment recorded after the report (``facts``), or,
on an ended episode, which takes no assessment, by reviewing it with a note here.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from careflow.facts import Facts
from careflow.redflags import Sign
from careflow.states import TERMINAL_STATES, State
from episodes.models import (
    Episode,
    RedFlag,
    RedFlagReport,
    RedFlagStatus,
    Source,
    is_team_clinician,
)
from episodes.services.checks import lock
from episodes.services.derived import after_write
from episodes.services.errors import NotPermittedError
from episodes.services.red_flags import red_flag_raise_locked
from episodes.signals import red_flag_reported

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

logger = logging.getLogger(__name__)


def reported_signs_record_locked(
    episode: Episode,
    *,
    signs: list[Sign],
    reminder_id: int | None,
    note: str,
    today: date,
    facts: Facts | None,
) -> tuple[list[RedFlag], list[RedFlagReport], Facts | None]:
    """Record each red-flag sign a patient reported, on the locked episode (open or ended).

    A sign whose flag is not active raises it (escalating per PATHWAY.md). A sign whose flag
    is active, or any sign on a resolved or closed episode, is a report to review: the care
    team is alerted again (``red_flag_reported``) and the episode waits in the urgent queue
    until a clinician reviews it. The same check-in sending the same sign again (the
    unfinished form, then the whole of it; a correction) is the same report: nothing new.

    Returns the flags raised, the reports to review and the write's facts (as
    ``red_flag_raise_locked`` returns them; None when no flag was raised and none were
    given). The caller ends with ``after_write``.
    """
    ended = State(episode.state) in TERMINAL_STATES
    active = {} if ended else _active_flags(episode)
    pending = _pending_reports(episode, reminder_id)
    raised: list[RedFlag] = []
    to_review: list[RedFlagReport] = []
    for sign in signs:
        flag = active.get(sign)
        if (sign, flag.pk if flag else None) in pending:
            continue
        if flag is None and not ended:
            flag, facts = red_flag_raise_locked(
                episode,
                sign=sign,
                by=None,
                note=note,
                source=Source.PATIENT,
                today=today,
                facts=facts,
            )
            active[sign] = flag
            raised.append(flag)
            _report(episode, sign=sign, flag=flag, raised=True, reminder_id=reminder_id, on=today)
            continue
        report = _report(
            episode, sign=sign, flag=flag, raised=False, reminder_id=reminder_id, on=today
        )
        to_review.append(report)
        episode.report_review_since = episode.report_review_since or report.reported_at
        episode.report_review_rule = min(
            filter(None, (episode.report_review_rule, report.category))
        )
        # notifications alerts the care team again (a receiver, in this transaction).
        red_flag_reported.send(sender=RedFlagReport, report=report)
    if to_review:
        logger.info(
            "red-flag report to review episode=%s reports=%s ended=%s",
            episode.pk,
            len(to_review),
            ended,
        )
    return raised, to_review, facts


def _active_flags(episode: Episode) -> dict[str, RedFlag]:
    flags = episode.red_flags.filter(status=RedFlagStatus.ACTIVE).order_by("raised_at", "id")
    return {flag.sign: flag for flag in flags}


def _pending_reports(episode: Episode, reminder_id: int | None) -> set[tuple[str, int | None]]:
    """(sign, flag) this check-in already reported and nobody has reviewed since."""
    if reminder_id is None:
        return set()
    return set(
        RedFlagReport.objects.filter(
            episode=episode, reminder_id=reminder_id, reviewed_at__isnull=True
        ).values_list("sign", "red_flag_id")
    )


def _report(
    episode: Episode,
    *,
    sign: str,
    flag: RedFlag | None,
    raised: bool,
    reminder_id: int | None,
    on: date,
) -> RedFlagReport:
    return RedFlagReport.objects.create(
        episode=episode,
        sign=sign,
        red_flag=flag,
        raised_flag=raised,
        reminder_id=reminder_id,
        reported_on=on,
    )


def reports_review_by_assessment(episode: Episode, *, by: User, assessment_id: int) -> int:
    """A clinician's assessment meets ``review_patient_report`` for every report before it.

    The caller has checked that ``by`` is a clinician of the care team; the episode is
    changed in memory (the caller's ``after_write`` saves it). Returns how many.
    """
    if episode.report_review_since is None:
        return 0
    reviewed = RedFlagReport.objects.filter(
        episode=episode, raised_flag=False, reviewed_at__isnull=True
    ).update(
        reviewed_at=timezone.now(),
        reviewed_by=by,
        review_note=f"reviewed by the clinician's assessment #{assessment_id}",
    )
    episode.report_review_since = None
    episode.report_review_rule = ""
    return reviewed


@transaction.atomic
def red_flag_report_review(
    *, episode_id: int, report_id: int, by: User | None, note: str = ""
) -> RedFlagReport:
    """A clinician reviews one red-flag report, with a note (any episode, ended ones too).

    On an open episode an assessment does the same for every report; an ended episode
    takes no assessment, so its reports are reviewed here: the clinician records what was
    decided (a new episode opened, the patient called). A coordinator is refused (403).
    """
    episode = lock(episode_id)
    if by is None or not is_team_clinician(episode, by):
        msg = "Reviewing a patient's red-flag report is for a clinician of the care team."
        raise NotPermittedError(msg)
    if not note.strip():
        raise ValidationError({"note": ["Reviewing a red-flag report needs a note."]})
    report = RedFlagReport.objects.select_for_update().get(pk=report_id, episode_id=episode.pk)
    if report.raised_flag:
        raise ValidationError({"report": ["This report raised its flag: act on the flag."]})
    if report.reviewed_at is not None:
        raise ValidationError({"report": ["This report has already been reviewed."]})
    report.reviewed_at = timezone.now()
    report.reviewed_by = by
    report.review_note = note.strip()
    report.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    left = RedFlagReport.objects.filter(
        episode=episode, raised_flag=False, reviewed_at__isnull=True
    ).aggregate(since=Min("reported_at"), rule=Min("category"))
    episode.report_review_since = left["since"]
    episode.report_review_rule = left["rule"] or ""
    episode.version += 1
    after_write(episode)
    return report
