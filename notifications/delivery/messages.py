"""What a reminder says: Django templates per milestone, audience and language.

Patient messages carry the given name, a signed check-in link and the safety-net advice,
and as little health information as possible (no diagnosis at all in an SMS). Care-team
messages name the episode by id, never the patient.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeAlias

from careflow.redflags import CATEGORY_LABEL
from episodes.models import Language, RedFlag, RedFlagReport
from notifications.channels import channel_for
from notifications.channels.base import DeliveryChannel, Message
from notifications.checkins.tokens import checkin_url_for, default_max_age
from notifications.delivery.rows import DeliveryRow
from notifications.models import (
    RED_FLAG_MILESTONE_PREFIX,
    RED_FLAG_REPORT_MILESTONE_PREFIX,
    Audience,
    Reminder,
    ReminderChannel,
)

__all__ = [
    "Deliverable",
    "Message",
    "idempotency_key_for",
    "recipient_of",
    "render_message",
    "rendering_once",
]

# A reminder as delivery reads it: the model, or a batch's plain row (``rows.DeliveryRow``,
# the same attributes under the same names, no ORM object built).
Deliverable: TypeAlias = Reminder | DeliveryRow


def idempotency_key_for(reminder: Deliverable) -> str:
    """The same for every attempt at one reminder: how a provider's records name it.

    No provider we use deduplicates on it (docs/REMINDERS.md); it names the reminder in the
    status callback URL, the email's Message-ID and metadata, and the file backend's files.
    """
    return f"reminder-{reminder.pk}"


def recipient_of(reminder: Deliverable, channel: DeliveryChannel) -> str:
    """Who the reminder goes to: the patient's address on the channel, or the team's email."""
    if reminder.audience == Audience.CARE_TEAM:
        return reminder.episode.care_team.email
    return channel.address(reminder.episode.patient)


def _render(
    channel: DeliveryChannel, to: str, template: str, context: dict[str, object]
) -> Message:
    renderer = _batch_renderer.get()
    if renderer is not None:
        return renderer.render(channel, to, template, context)
    return channel.render(to=to, template=template, context=context)


def render_message(reminder: Deliverable) -> Message:
    """The message for the reminder's audience and channel (loads the episode and patient).

    Inside ``rendering_once()`` (a batch's delivery) each template is rendered once.
    """
    episode = reminder.episode
    if reminder.audience == Audience.CARE_TEAM:
        return _care_team_message(reminder)
    patient = episode.patient
    language = patient.language if patient.language in Language.values else Language.EN
    context = {
        "given_name": patient.given_name,
        "checkin_url": checkin_url_for(reminder),
        "link_days": default_max_age().days,
    }
    channel = channel_for(reminder.channel)
    return _render(
        channel, channel.address(patient), f"patient/{language}/{reminder.milestone}", context
    )


class BatchRenderer:
    """Each template rendered once for a batch, then filled per row (``rendering_once``).

    A template is rendered with a marker in place of each context value; a row's message is
    that text with the markers replaced by its values. Equal to rendering the row itself
    when a value is one the template prints as it is: non-empty, without a character HTML
    escaping would change and without a line break (else the row is rendered in full), and
    no marker at the text's start or end (where stripping would differ).
    """

    _UNSAFE = frozenset("<>&'\"\n\r\ue000\ue001")

    def __init__(self) -> None:
        self._texts: dict[tuple[str, str, tuple[str, ...]], Message | None] = {}

    def render(
        self, channel: DeliveryChannel, to: str, template: str, context: dict[str, object]
    ) -> Message:
        values = {key: str(value) for key, value in context.items()}
        if not all(value and self._UNSAFE.isdisjoint(value) for value in values.values()):
            return channel.render(to=to, template=template, context=context)
        key = (channel.name, template, tuple(values))
        if key not in self._texts:
            self._texts[key] = self._with_markers(channel, template, list(values))
        marked = self._texts[key]
        if marked is None:
            return channel.render(to=to, template=template, context=context)
        subject, body = marked.subject, marked.body
        for index, value in enumerate(values.values()):
            subject = subject.replace(f"\ue000{index}\ue001", value)
            body = body.replace(f"\ue000{index}\ue001", value)
        return Message(to=to, subject=subject, body=body)

    @staticmethod
    def _with_markers(channel: DeliveryChannel, template: str, keys: list[str]) -> Message | None:
        markers: dict[str, object] = {key: f"\ue000{i}\ue001" for i, key in enumerate(keys)}
        marked = channel.render(to="", template=template, context=markers)
        for text in (marked.subject, marked.body):
            if text.startswith("\ue000") or text.endswith("\ue001"):
                return None
        return marked


_batch_renderer: ContextVar[BatchRenderer | None] = ContextVar("batch_renderer", default=None)


@contextmanager
def rendering_once() -> Iterator[None]:
    """Within it, ``render_message`` renders each template once (a batch's delivery)."""
    token = _batch_renderer.set(BatchRenderer())
    try:
        yield
    finally:
        _batch_renderer.reset(token)


def _care_team_message(reminder: Deliverable) -> Message:
    episode = reminder.episode
    context: dict[str, object] = {
        "episode_id": episode.pk,
        "milestone_date": reminder.milestone_date.isoformat(),
    }
    name = reminder.milestone
    if reminder.milestone.startswith(RED_FLAG_REPORT_MILESTONE_PREFIX):
        report_id = int(reminder.milestone.removeprefix(RED_FLAG_REPORT_MILESTONE_PREFIX))
        report = RedFlagReport.objects.get(pk=report_id, episode_id=episode.pk)
        context |= {
            "category": report.category,
            "category_name": CATEGORY_LABEL.get(report.category, ""),
            "sign": report.sign,
            "reported_on": report.reported_on.isoformat(),
            "ended": report.red_flag_id is None,
        }
        name = "red_flag_report"
    elif reminder.milestone.startswith(RED_FLAG_MILESTONE_PREFIX):
        flag_id = int(reminder.milestone.removeprefix(RED_FLAG_MILESTONE_PREFIX))
        flag = RedFlag.objects.get(pk=flag_id, episode_id=episode.pk)
        context |= {
            "category": flag.category,
            "category_name": CATEGORY_LABEL.get(flag.category, ""),
            "sign": flag.sign,
            "raised_on": flag.raised_on.isoformat(),
            "source": flag.source,
        }
        name = "red_flag"
    # The care team is written to by email (its address is the team's email).
    channel = channel_for(ReminderChannel.EMAIL)
    return _render(channel, episode.care_team.email, f"care_team/{name}", context)
