"""Plain words for the codes careflow and the models use (states, transitions, actions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from careflow.dates import age_on
from careflow.redflags import CATEGORY_LABEL
from workspace.forms import label_for

__all__ = ["label_for"]

STATES = {
    "conservative_care": gettext_lazy("Conservative care"),
    "urgent_escalation": gettext_lazy("Urgent escalation"),
    "imaging_eligible": gettext_lazy("Imaging eligible"),
    "esi": gettext_lazy("Epidural steroid injection"),
    "specialist_referral": gettext_lazy("Specialist referral"),
    "surgical_review": gettext_lazy("Surgical review"),
    "surgery": gettext_lazy("Surgery"),
    "refractory": gettext_lazy("Refractory"),
    "resolved": gettext_lazy("Resolved"),
    "closed": gettext_lazy("Closed"),
}
TRANSITIONS = {
    "escalate": gettext_lazy("Escalate"),
    "clear_escalation": gettext_lazy("Clear the escalation"),
    "confirm_imaging_eligibility": gettext_lazy("Confirm imaging eligibility"),
    "schedule_esi": gettext_lazy("Schedule an epidural steroid injection"),
    "refer_to_specialist": gettext_lazy("Refer to a specialist"),
    "begin_surgical_review": gettext_lazy("Begin surgical review"),
    "decline_surgery": gettext_lazy("Decline surgery"),
    "plan_surgery": gettext_lazy("Plan surgery"),
    "declare_refractory": gettext_lazy("Declare refractory"),
    "resolve": gettext_lazy("Resolve"),
    "close": gettext_lazy("Close"),
}
QUEUES = {
    "urgent": gettext_lazy("Urgent"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due in the next 7 days"),
    "reassessment_due": gettext_lazy("Reassessment due"),
    "imaging_eligible": gettext_lazy("Imaging eligible"),
    "esi": gettext_lazy("Epidural steroid injection"),
    "specialist_referral": gettext_lazy("Specialist referral"),
    "surgical_review": gettext_lazy("Surgical review"),
    "delivery_failures": gettext_lazy("Reminders that failed or were skipped"),
    "unread_replies": gettext_lazy("Replies from patients to read"),
    "unassigned": gettext_lazy("Unassigned"),
    "mine": gettext_lazy("Assigned to me"),
}
NEXT_ACTIONS = {
    "biopsychosocial_assessment": gettext_lazy("Do a biopsychosocial assessment"),
    "confirm_resolution": gettext_lazy("The patient reports it resolved: confirm"),
    "correlate_imaging": gettext_lazy("Correlate the imaging with the symptoms"),
    "educate_patient": gettext_lazy("Educate the patient (natural history, stay active)"),
    "order_mri": gettext_lazy("Order an MRI"),
    "reassess": gettext_lazy("Reassess the patient"),
    "refer_spinal_cord_stimulation_centre": gettext_lazy(
        "Refer to a spinal cord stimulation centre"
    ),
    "refer_to_specialist": gettext_lazy("Refer to a specialist"),
    "urgent_imaging": gettext_lazy("Urgent imaging and referral"),
    "review_patient_report": gettext_lazy("Review the patient's red-flag report"),
}
DEADLINES = {
    "specialist_referral": gettext_lazy("Specialist referral"),
    "reassessment": gettext_lazy("Reassessment"),
}
CHANNELS = {
    "email": gettext_lazy("email"),
    "sms": gettext_lazy("SMS"),
}
URGENCY = {
    "immediate": gettext_lazy("Immediate"),
    "within_2_weeks": gettext_lazy("Within 2 weeks"),
    "routine": gettext_lazy("Routine"),
}


EVENT_KINDS = {
    "transition": gettext_lazy("Transition"),
    "assessment": gettext_lazy("Assessment"),
    "red_flag_raised": gettext_lazy("Red flag"),
    "red_flag_ruled_out": gettext_lazy("Red flag"),
    "red_flag_reported": gettext_lazy("Red flag"),
    "red_flag_report_reviewed": gettext_lazy("Red flag"),
    "imaging": gettext_lazy("Imaging"),
    "care_plan_item": gettext_lazy("Care plan"),
    "reminder": gettext_lazy("Reminder"),
    "delivery_attempt": gettext_lazy("Delivery"),
    "checkin": gettext_lazy("Check-in"),
    "patient_message": gettext_lazy("Patient SMS"),
    "outreach": gettext_lazy("Outreach"),
}


def event_kind(code: str) -> str:
    return str(EVENT_KINDS.get(code, code.replace("_", " ").capitalize()))


def _word(table: dict[str, Any], code: str) -> str:
    return str(table.get(code, code.replace("_", " ")))


def state(code: str) -> str:
    return _word(STATES, code)


def transition(code: str) -> str:
    return _word(TRANSITIONS, code)


def queue(code: str) -> str:
    return _word(QUEUES, code)


def channel(code: str) -> str:
    return _word(CHANNELS, code)


def deadline(code: str) -> str:
    return _word(DEADLINES, code)


def sign(code: str) -> str:
    return code.replace("_", " ").capitalize()


def category(code: str) -> str:
    """A red flag's category in words: "RF-1 cauda equina syndrome"."""
    words = CATEGORY_LABEL.get(code, "")
    return f"{code} {words}" if words else code


def ago(moment: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: "just now", "3 h ago", "2 days ago"."""
    seconds = max(0, int((now - moment).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 1:
        return _("just now")
    if hours < 1:
        return ngettext("%(n)d minute ago", "%(n)d minutes ago", minutes) % {"n": minutes}
    if days < 1:
        return ngettext("%(n)d hour ago", "%(n)d hours ago", hours) % {"n": hours}
    return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}


def plan_item(code: str) -> str:
    return code.replace("_", " ").capitalize()


def next_action(action: dict[str, str] | None) -> dict[str, str] | None:
    if action is None:
        return None
    return {**action, "label": _word(NEXT_ACTIONS, action["action"])}


def age(birth_date: date, today: date) -> int:
    return age_on(birth_date, today)


def _transition_text(d: dict[str, Any]) -> str:
    return _("%(transition)s: %(from)s → %(to)s") % {
        "transition": transition(d["transition"]),
        "from": state(d["from"]),
        "to": state(d["to"]),
    }


def _assessment_text(d: dict[str, Any]) -> str:
    facts = ", ".join(
        f"{label_for(k)}: {_('yes') if v else _('no')}" for k, v in d["values"].items()
    )
    return _("Assessment recorded (%(facts)s)") % {"facts": facts or "—"} + _note(d)


def _note(d: dict[str, Any]) -> str:
    return f" — {d['note']}" if d.get("note") else ""


def _imaging_text(d: dict[str, Any]) -> str:
    return _("Imaging on %(date)s: %(finding)s") % {
        "date": d["performed_on"],
        "finding": _("nerve-root compression")
        if d["nerve_root_compression"]
        else _("no compression"),
    }


def _checkin_text(d: dict[str, Any]) -> str:
    symptoms = ", ".join(sign(s) for s in d["symptoms"]) or _("none")
    return _(
        "Check-in from the patient: overall %(overall)s; disabling pain: %(disabling)s;"
        " red-flag symptoms: %(symptoms)s"
    ) % {
        "overall": d["overall"],
        "disabling": _("yes") if d["disabling_pain"] else _("no"),
        "symptoms": symptoms,
    }


def patient_message(d: dict[str, Any]) -> str:
    """What the patient's SMS was and did; a reply's text and whether it was read, by whom."""
    if d["kind"] == "opt_out":
        return _(
            "%(word)s: SMS consent withdrawn; reminders go by email if there is an address"
        ) % {"word": d["body"].strip()}
    if d["kind"] == "opt_in":
        return _("%(word)s: SMS consent restored") % {"word": d["body"].strip()}
    if d["kind"] == "help":
        return _("%(word)s: a request for help with the texts, answered by the SMS provider") % {
            "word": d["body"].strip()
        }
    text = _("Reply: “%(text)s”") % {"text": d["body"]}
    read_at = parse_datetime(d.get("read_at") or "")
    if read_at is None:
        return text + " — " + _("unread")
    return (
        text
        + " — "
        + _("read by %(user)s at %(at)s")
        % {
            "user": d["read_by"],
            "at": timezone.localtime(read_at).strftime("%Y-%m-%d %H:%M"),
        }
    )


# One sentence per kind of timeline event (episodes.selectors.timeline and its sources).
_EVENT_TEXT: dict[str, Any] = {
    "transition": _transition_text,
    "assessment": _assessment_text,
    "red_flag_raised": lambda d: (
        _("Red flag raised: %(sign)s (%(rule)s)") % {"sign": sign(d["sign"]), "rule": d["category"]}
        + _note(d)
    ),
    "red_flag_ruled_out": lambda d: (
        _("Red flag ruled out: %(sign)s") % {"sign": sign(d["sign"])} + _note(d)
    ),
    "red_flag_reported": lambda d: (
        _("The patient reported %(sign)s (%(rule)s): for a clinician to review")
        % {"sign": sign(d["sign"]), "rule": d["category"]}
    ),
    "red_flag_report_reviewed": lambda d: (
        _("Red-flag report reviewed: %(sign)s") % {"sign": sign(d["sign"])} + _note(d)
    ),
    "imaging": _imaging_text,
    "care_plan_item": lambda d: _("Care plan: %(item)s") % {"item": plan_item(d["item"])},
    "reminder": lambda d: (
        _("Reminder %(milestone)s to the %(audience)s by %(channel)s: %(status)s") % d
    ),
    "delivery_attempt": lambda d: (
        _("Delivery attempt %(attempt)s of reminder %(milestone)s: %(outcome)s") % d
    ),
    "patient_message": patient_message,
    "checkin": _checkin_text,
}


def event(e: Any) -> str:  # noqa: ANN401 - a TimelineEvent
    text = _EVENT_TEXT.get(e.kind)
    return text(e.data) if text is not None else e.kind.replace("_", " ")


MILESTONES = {
    "2_weeks": gettext_lazy("2 weeks"),
    "6_weeks": gettext_lazy("6 weeks"),
    "3_months": gettext_lazy("3 months"),
}
OVERALL = {
    "better": gettext_lazy("Better"),
    "same": gettext_lazy("The same"),
    "worse": gettext_lazy("Worse"),
    "resolved": gettext_lazy("Resolved"),
}


def milestone(code: str) -> str:
    return _word(MILESTONES, code)


def overall(code: str) -> str:
    return _word(OVERALL, code)


# -- queues, the board and the patient search ---------------------------------------------

AUDIENCES = {
    "patient": gettext_lazy("the patient"),
    "care_team": gettext_lazy("the care team"),
}
REMINDER_STATUSES = {
    "failed": gettext_lazy("Failed"),
    "skipped": gettext_lazy("Skipped"),
}


def reminder(milestone_code: str, audience: str, channel_code: str) -> str:
    """Which reminder, in words: "2 weeks reminder to the patient by email"."""
    words = {
        "audience": _word(AUDIENCES, audience),
        "channel": channel(channel_code),
    }
    if milestone_code.startswith("red_flag:report:"):
        return _("Red-flag report alert to %(audience)s by %(channel)s") % words
    if milestone_code.startswith("red_flag:"):
        return _("Red-flag alert to %(audience)s by %(channel)s") % words
    return _("%(milestone)s reminder to %(audience)s by %(channel)s") % {
        **words,
        "milestone": milestone(milestone_code),
    }


def reminder_status(code: str) -> str:
    return _word(REMINDER_STATUSES, code)
