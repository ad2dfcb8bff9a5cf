"""factory-boy factories: one per model the tests build, and the builders they share.

Episodes, red flags and imaging studies are made by their services (episodes.services), so
the derived columns, red flags, queue moments and reminders are the ones a user's write
gives; ``at`` is the moment the service runs (10:00 New York time on ONSET unless given;
None: the clock as it stands). A reminder is a row written directly: an episode's own come
from its service. ``bulk_episodes`` writes rows directly too, for tests that count queries.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import factory
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from careflow.schedule import queue_moments
from episodes import services
from episodes.models import (
    CareTeam,
    CareTeamMembership,
    Episode,
    ImagingStudy,
    Patient,
    RedFlag,
    Role,
)
from notifications.models import PatientMessage, Reminder
from tests.clock import ONSET, moment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests")


class CareTeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeam
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    email = factory.LazyAttribute(lambda t: f"{t.name.lower().replace(' ', '-')}@example.org")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamMembership

    team = factory.SubFactory(CareTeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.COORDINATOR


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    care_team = factory.SubFactory(CareTeamFactory)
    given_name = "Ana"
    family_name = factory.Sequence(lambda n: f"Ruiz{n}")
    birth_date = date(1980, 4, 2)
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone = "+15551230000"
    timezone = "America/New_York"
    preferred_channel = "email"
    sms_consent = False
    language = "en"


def _travel(at: datetime | None):
    return nullcontext() if at is None else time_machine.travel(at, tick=False)


class EpisodeFactory(factory.django.DjangoModelFactory):
    """``services.episode_create`` by ``by`` at ``at``; any other keyword is a fact.

    ``EpisodeFactory(patient=p, by=coordinator, radicular_pain=True)``.
    """

    class Meta:
        model = Episode

    patient = factory.SubFactory(PatientFactory)
    by = None
    symptom_onset = ONSET
    conservative_care_start = factory.SelfAttribute("symptom_onset")
    at = moment(0)

    @classmethod
    def _create(cls, _model_class, *, at, **values):
        with _travel(at):
            return services.episode_create(**values)


def new_episode(patient, by, day: int = 0, **facts) -> Episode:
    """An episode on the fixed calendar (tests/clock.py): onset and care start on ONSET.

    Made on day ``day`` of conservative care, at 10:00 New York time.
    """
    return EpisodeFactory(patient=patient, by=by, at=moment(day), **facts)


def episode_for(team, by, *, days: int, given_name: str = "Ana", **facts) -> Episode:
    """An episode ``days`` into conservative care as the clock stands (a live server's test).

    Its patient's zone is UTC, the server's: today is the same day for both.
    """
    onset = timezone.localdate() - timedelta(days=days)
    return EpisodeFactory(
        patient__care_team=team,
        patient__given_name=given_name,
        patient__timezone="UTC",
        by=by,
        symptom_onset=onset,
        conservative_care_start=onset,
        at=None,
        **facts,
    )


class _WrittenByService(factory.django.DjangoModelFactory):
    """A row about an episode that ``_service(episode_id=..., by=..., ...)`` writes at ``at``."""

    class Meta:
        abstract = True

    episode = factory.SubFactory(EpisodeFactory)
    by = None
    at = moment(0)

    @classmethod
    def _create(cls, _model_class, *, episode, at, **values):
        with _travel(at):
            return cls._service(episode_id=episode.pk, **values)


class RedFlagFactory(_WrittenByService):
    """``services.red_flag_raise``: the episode escalates as it would (URG-1)."""

    class Meta:
        model = RedFlag

    _service = staticmethod(services.red_flag_raise)
    sign = "fever"


class ImagingStudyFactory(_WrittenByService):
    """``services.imaging_record``: the gates it opens are the service's."""

    class Meta:
        model = ImagingStudy

    _service = staticmethod(services.imaging_record)
    performed_on = ONSET


class ReminderFactory(factory.django.DjangoModelFactory):
    """A reminder row in the state a test needs (failed, sent, ...), written directly.

    ``episode`` is required. An episode made by its service already has its milestones'
    reminders (one per milestone and audience): a row here is another milestone's, or one
    for an episode written directly. ``ReminderFactory.build(...)`` for ``bulk_create``.
    """

    class Meta:
        model = Reminder

    milestone = "2_weeks"
    audience = "patient"
    channel = "email"
    milestone_date = factory.LazyFunction(timezone.localdate)
    due_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.SelfAttribute("due_at")
    status = "scheduled"


# -- many rows at once, written directly --------------------------------------------------

BULK_STATES = ["conservative_care", "urgent_escalation", "imaging_eligible", "esi",
               "specialist_referral", "surgical_review"]  # fmt: skip


def bulk_episodes(team, assignee, n: int) -> None:
    """``n`` episodes spread over every queue, written in a handful of bulk inserts."""
    today = timezone.localdate()
    patients = Patient.objects.bulk_create(
        Patient(
            care_team=team,
            given_name="Pat",
            family_name=f"Bulk{i}",
            birth_date=date(1970, 1, 1),
            timezone="America/New_York",
        )
        for i in range(n)
    )
    now = timezone.now()

    def moments(i: int) -> dict:
        found = queue_moments(
            next_deadline=today + timedelta(days=(i % 20) - 10),
            reassessment_due_on=today - timedelta(days=i % 5),
            zone=ZoneInfo("America/New_York"),
        )
        return {
            "overdue_from": found.overdue_from,
            "due_soon_from": found.due_soon_from,
            "reassessment_due_from": found.reassessment_due_from,
        }

    episodes = Episode.objects.bulk_create(
        Episode(
            patient=patient,
            care_team=team,
            state=BULK_STATES[i % len(BULK_STATES)],
            assigned_to=assignee if i % 2 else None,
            symptom_onset=today - timedelta(days=60),
            conservative_care_start=today - timedelta(days=60),
            enrolled_on=today - timedelta(days=60),
            facts={"radicular_pain": True},
            next_deadline=today + timedelta(days=(i % 20) - 10),
            next_deadline_rule="REF-1",
            reassessment_due_on=today - timedelta(days=i % 5),
            urgent_since=now - timedelta(minutes=i) if i % 3 == 0 else None,
            **moments(i),
        )
        for i, patient in enumerate(patients)
    )
    RedFlag.objects.bulk_create(
        RedFlag(episode=e, sign="fever", category="RF-4", raised_on=today) for e in episodes
    )
    ImagingStudy.objects.bulk_create(
        ImagingStudy(episode=e, performed_on=today, nerve_root_compression=True)
        for e in episodes[::2]
    )
    Reminder.objects.bulk_create(
        Reminder(
            episode=e,
            milestone="2_weeks",
            audience="patient",
            channel="email",
            milestone_date=today,
            due_at=now,
            next_attempt_at=now,
            status="failed",
        )
        for e in episodes[::4]
    )
    # Unread SMS replies on every third episode, arriving in no particular order (ties
    # too), and a read one that counts for nothing.
    replies = PatientMessage.objects.bulk_create(
        PatientMessage(
            episode=e,
            provider_message_id=f"SM{e.pk:032x}",
            kind="reply",
            body=f"Reply {i}",
            from_number="+15551230000",
        )
        for i, e in enumerate(episodes[1::3])
    )
    for i, reply in enumerate(replies):
        received = now - timedelta(minutes=(i * 7) % 11)
        PatientMessage.objects.filter(pk=reply.pk).update(received_at=received)
        Episode.objects.filter(pk=reply.episode_id).update(unread_reply_since=received)
    PatientMessage.objects.create(
        episode=episodes[0], provider_message_id="SM" + "f" * 32, kind="reply", read_at=now
    )
