"""What a reminder says: Django templates per milestone, audience and language.

Patient messages carry the given name, a signed check-in link and the safety-net advice,
and as little health information as possible (no diagnosis at all in an SMS). Care-team
messages name the episode by id, never the patient.
"""

from __future__ import annotations

from careflow.redflags import CATEGORY_LABEL
from episodes.models import Language, RedFlag
from notifications.channels import channel_for
from notifications.channels.base import Message
from notifications.checkin_tokens import checkin_url_for, default_max_age
from notifications.models import RED_FLAG_MILESTONE_PREFIX, Audience, Reminder, ReminderChannel

__all__ = ["Message", "idempotency_key_for", "render_message"]


def idempotency_key_for(reminder: Reminder) -> str:
    """The same for every attempt at one reminder: how a provider's records name it.

    No provider we use deduplicates on it (docs/REMINDERS.md); it names the reminder in the
    status callback URL, the email's Message-ID and metadata, and the file backend's files.
    """
    return f"reminder-{reminder.pk}"


def render_message(reminder: Reminder) -> Message:
    """The message for the reminder's audience and channel (loads the episode and patient)."""
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
    return channel.render(
        to=channel.address(patient),
        template=f"patient/{language}/{reminder.milestone}",
        context=context,
    )


def _care_team_message(reminder: Reminder) -> Message:
    episode = reminder.episode
    context: dict[str, object] = {
        "episode_id": episode.pk,
        "milestone_date": reminder.milestone_date.isoformat(),
    }
    name = reminder.milestone
    if reminder.milestone.startswith(RED_FLAG_MILESTONE_PREFIX):
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
    return channel_for(ReminderChannel.EMAIL).render(
        to=episode.care_team.email, template=f"care_team/{name}", context=context
    )
