"""Plain words for the codes careflow and the models use (states, transitions, actions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from careflow.dates import age_on
from careflow.redflags import CATEGORY_LABEL
from workspace.forms import label_for
from workspace.models import OutreachKind

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
    "review_state": gettext_lazy(
        "Review the episode's stage: a fact that admitted it no longer holds"
    ),
}
DEADLINES = {
    "specialist_referral": gettext_lazy("Specialist referral"),
    "reassessment": gettext_lazy("Reassessment"),
}
CHANNELS = {
    "email": gettext_lazy("email"),
    "sms": gettext_lazy("SMS"),
    "": gettext_lazy("no channel"),
}
# The choice of channel as a form offers it (a sentence uses CHANNELS).
CHANNEL_OPTIONS = {
    "email": gettext_lazy("Email"),
    "sms": gettext_lazy("SMS (text message)"),
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
    "correction": gettext_lazy("Correction"),
}


def event_kind(code: str) -> str:
    return _word(EVENT_KINDS, code, code.replace("_", " ").capitalize())


# Each table's words, translated once a process and language: a queue page shows about 160
# of them, and gettext walks every catalogue for each (a sixth of the page's CPU time).
# Catalogues do not change while a process runs; only codes a table holds are kept.
_TRANSLATED: dict[tuple[str | None, int, str], str] = {}


def _word(table: dict[str, Any], code: str, otherwise: str | None = None) -> str:
    """``table[code]`` in the active language; else ``otherwise``, else the code in words."""
    key = (get_language(), id(table), code)
    text = _TRANSLATED.get(key)
    if text is None:
        if code not in table:
            return otherwise if otherwise is not None else code.replace("_", " ")
        text = _TRANSLATED[key] = str(table[code])
    return text


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
    return _word(SIGNS, code, code.replace("_", " ").capitalize())


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
    return _word(PLAN_ITEMS, code, code.replace("_", " ").capitalize())


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
    return _("%(modality)s on %(date)s: %(finding)s") % {
        "modality": modality(d.get("modality", "")),
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
        "overall": overall(d["overall"]).lower(),
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


def _reminder_text(d: dict[str, Any]) -> str:
    return _("%(milestone)s to %(audience)s by %(channel)s: %(status)s") % {
        "milestone": reminder_milestone(d["milestone"]),
        "audience": audience(d["audience"]),
        "channel": channel(d["channel"]),
        "status": reminder_status(d["status"]),
    }


def _delivery_text(d: dict[str, Any]) -> str:
    return _("%(milestone)s to %(audience)s, attempt %(attempt)s: %(outcome)s") % {
        "milestone": reminder_milestone(d["milestone"]),
        "audience": audience(d["audience"]),
        "attempt": d["attempt"],
        "outcome": _word(DELIVERY_OUTCOMES, d["outcome"]),
    }


def _correction_text(d: dict[str, Any]) -> str:
    return _("%(field)s corrected from %(old)s to %(new)s — %(reason)s") % {
        "field": _word(CORRECTED_FIELDS, d["field"]),
        "old": d["old"],
        "new": d["new"],
        "reason": d["reason"],
    }


def _outreach_text(d: dict[str, Any]) -> str:
    """A coordinator's outreach note: "Called, no answer: tried twice"."""
    kinds = dict(OutreachKind.choices)
    return str(kinds.get(d["kind"], d["kind"])) + (f": {d['note']}" if d.get("note") else "")


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
    "reminder": _reminder_text,
    "delivery_attempt": _delivery_text,
    "correction": _correction_text,
    "patient_message": patient_message,
    "checkin": _checkin_text,
    "outreach": _outreach_text,
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


# -- the episode page: the codes it shows, in words --------------------------------------

SIGNS = {
    "urinary_retention": gettext_lazy("Urinary retention"),
    "incontinence": gettext_lazy("Incontinence"),
    "bilateral_leg_weakness": gettext_lazy("Weakness in both legs"),
    "saddle_anesthesia": gettext_lazy("Saddle anaesthesia"),
    "progressive_motor_deficit": gettext_lazy("Progressive motor deficit"),
    "history_of_cancer": gettext_lazy("History of cancer"),
    "unexplained_weight_loss": gettext_lazy("Unexplained weight loss"),
    "age_over_50_new_onset": gettext_lazy("Over 50 with new-onset pain"),
    "fever": gettext_lazy("Fever"),
    "iv_drug_use": gettext_lazy("IV drug use"),
    "immunosuppression": gettext_lazy("Immunosuppression"),
    "significant_trauma": gettext_lazy("Significant trauma"),
    "osteoporosis": gettext_lazy("Osteoporosis"),
    "prolonged_corticosteroids": gettext_lazy("Prolonged corticosteroid use"),
}
PLAN_ITEMS = {
    "natural_history_education": gettext_lazy("Education: the natural history"),
    "stay_active_advice": gettext_lazy("Advice to stay active"),
    "nsaid": gettext_lazy("NSAIDs"),
    "muscle_relaxant": gettext_lazy("Muscle relaxant"),
    "opioid_short_term": gettext_lazy("Opioid, short term"),
    "nortriptyline": gettext_lazy("Nortriptyline"),
    "pregabalin": gettext_lazy("Pregabalin"),
    "topiramate": gettext_lazy("Topiramate"),
    "morphine": gettext_lazy("Morphine"),
    "core_stabilization": gettext_lazy("Core stabilisation"),
    "mckenzie": gettext_lazy("McKenzie method"),
    "mobilization_manipulation": gettext_lazy("Mobilisation or manipulation"),
    "neural_mobilization": gettext_lazy("Neural mobilisation"),
    "radiofrequency_ablation": gettext_lazy("Radiofrequency ablation"),
    "pulsed_radiofrequency_drg": gettext_lazy("Pulsed radiofrequency at the dorsal root ganglion"),
}
PLAN_CATEGORIES = {
    "education": gettext_lazy("education"),
    "medication": gettext_lazy("medication"),
    "physical_therapy": gettext_lazy("physical therapy"),
    "interventional": gettext_lazy("interventional"),
}
MODALITIES = {
    "mri_lumbar_without_contrast": gettext_lazy("MRI of the lumbar spine without contrast"),
}
AUDIENCES = {
    "patient": gettext_lazy("the patient"),
    "care_team": gettext_lazy("the care team"),
}
REMINDER_MILESTONES = {
    "2_weeks": gettext_lazy("2-week check-in"),
    "6_weeks": gettext_lazy("6-week reassessment"),
    "3_months": gettext_lazy("3-month follow-up"),
}
REMINDER_STATUSES = {
    "scheduled": gettext_lazy("scheduled"),
    "sending": gettext_lazy("sending"),
    "sent": gettext_lazy("sent"),
    "failed": gettext_lazy("failed"),
    "cancelled": gettext_lazy("cancelled"),
    "skipped": gettext_lazy("skipped"),
}
DELIVERY_OUTCOMES = {
    "in_flight": gettext_lazy("being sent"),
    "sent": gettext_lazy("sent"),
    "transient_error": gettext_lazy("failed, to be tried again"),
    "permanent_error": gettext_lazy("failed"),
    "interrupted": gettext_lazy("interrupted"),
    "reconciled": gettext_lazy("found sent"),
}
CLOSURE_REASONS = {
    "withdrawn": gettext_lazy("The patient withdrew"),
    "transferred": gettext_lazy("Transferred to another service"),
    "lost_to_follow_up": gettext_lazy("Lost to follow-up"),
    "deceased": gettext_lazy("The patient died"),
    "other": gettext_lazy("Another reason"),
}
CORRECTED_FIELDS = {
    "symptom_onset": gettext_lazy("Date the symptoms began"),
    "conservative_care_start": gettext_lazy("Date conservative care began"),
    "birth_date": gettext_lazy("Date of birth"),
}
# The transition forms' choices (api.serializers.inputs), in words.
TRANSITION_CHOICES = {
    "urgency": URGENCY,
    "reason": CLOSURE_REASONS,
    "guidance": {"fluoroscopic": gettext_lazy("Fluoroscopic"), "blind": gettext_lazy("Blind")},
    "approach": {
        "interlaminar": gettext_lazy("Interlaminar"),
        "transforaminal": gettext_lazy("Transforaminal"),
    },
    "procedure": {"discectomy": gettext_lazy("Discectomy"), "fusion": gettext_lazy("Fusion")},
    "technique": {
        "open": gettext_lazy("Open"),
        "microtubular": gettext_lazy("Microtubular"),
        "endoscopic": gettext_lazy("Endoscopic"),
    },
}
SOURCES = {
    "system": gettext_lazy("Careflow"),
    "patient": gettext_lazy("the patient"),
    "user": gettext_lazy("a user"),
}
# The timeline's filters: which kinds of entry each shows (workspace/views/episode.py).
TIMELINE_GROUPS = {
    "transition": "clinical",
    "assessment": "clinical",
    "red_flag_raised": "clinical",
    "red_flag_ruled_out": "clinical",
    "red_flag_reported": "clinical",
    "red_flag_report_reviewed": "clinical",
    "imaging": "clinical",
    "care_plan_item": "clinical",
    "correction": "clinical",
    "checkin": "messages",
    "patient_message": "messages",
    "outreach": "messages",
    "reminder": "reminders",
    "delivery_attempt": "reminders",
}


def modality(code: str) -> str:
    return _word(MODALITIES, code) if code else str(MODALITIES["mri_lumbar_without_contrast"])


def audience(code: str) -> str:
    return _word(AUDIENCES, code)


def closure_reason(code: str) -> str:
    return _word(CLOSURE_REASONS, code)


def plan_category(code: str) -> str:
    return _word(PLAN_CATEGORIES, code)


def source(code: str) -> str:
    return _word(SOURCES, code)


def reminder_milestone_kind(code: str) -> str:
    """The part of a milestone code its words depend on: an alert's code names its flag."""
    if code.startswith("red_flag:report:"):
        return "red_flag:report:"
    if code.startswith("red_flag:"):
        return "red_flag:"
    return code


def reminder_milestone(code: str) -> str:
    """A reminder's milestone in words; a red-flag alert names what it is about."""
    if code.startswith("red_flag:report:"):
        return _("Alert: a red-flag symptom the patient reported")
    if code.startswith("red_flag:"):
        return _("Alert: a red flag was raised")
    return _word(REMINDER_MILESTONES, code)


def reminder_status(code: str) -> str:
    return _word(REMINDER_STATUSES, code)


def person(user: Any) -> str:  # noqa: ANN401 - any auth user model
    """A user by their full name, else their username."""
    return user.get_full_name().strip() or user.get_username()


def on_day(due: date, today: date) -> str:
    """A date relative to today, where that helps: "today", "in 2 days", "3 days ago"."""
    days = (due - today).days
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if days == -1:
        return _("yesterday")
    if days > 0:
        return ngettext("in %(n)d day", "in %(n)d days", days) % {"n": days}
    return ngettext("%(n)d day ago", "%(n)d days ago", -days) % {"n": -days}


def due(due_on: date, today: date) -> str:
    """A deadline relative to today: "due today", "due in 2 days", "overdue by 3 days"."""
    days = (due_on - today).days
    if days == 0:
        return _("due today")
    if days > 0:
        return ngettext("due in %(n)d day", "due in %(n)d days", days) % {"n": days}
    return ngettext("overdue by %(n)d day", "overdue by %(n)d days", -days) % {"n": -days}


def reminder(milestone_code: str, audience_code: str, channel_code: str) -> str:
    """Which reminder, in words: "2-week check-in to the patient by email"."""
    return _("%(milestone)s to %(audience)s by %(channel)s") % {
        "milestone": reminder_milestone(milestone_code),
        "audience": audience(audience_code),
        "channel": channel(channel_code),
    }
