"""Patients, care teams, episodes with their pathway state machine, facts and audit trail."""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import GET_STATE, ConcurrentTransitionMixin, FSMField, transition

from careflow.facts import BOOLEAN_FACTS
from careflow.guards import evaluate
from careflow.redflags import CATEGORY_OF_SIGN, Sign
from careflow.states import NON_TERMINAL_STATES, TRANSITIONS, State, TransitionName

# In the system's zone files but not time zones a person lives in: the host's own zone
# ("localtime"), tzdata's placeholder ("Factory"), and the duplicate trees.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_NOT_ZONE_PREFIXES = ("posix/", "right/", "SystemV/")


@cache
def iana_zones() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(_NOT_ZONE_PREFIXES)
    )


def validate_timezone(value: str) -> None:
    if value not in iana_zones():
        msg = f"{value!r} is not an IANA time zone name (e.g. America/New_York)."
        raise ValidationError(msg)


class Role(models.TextChoices):
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"


class CareTeam(models.Model):
    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True, help_text="Where red-flag alerts and notices go.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CareTeamMembership", related_name="care_teams"
    )

    def __str__(self) -> str:
        return self.name


class CareTeamMembership(models.Model):
    team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.team}"


class Channel(models.TextChoices):
    """How reminders reach someone: the one enumeration (notifications' too).

    A value names a channel of ``CAREFLOW_CHANNELS`` (notifications/channels/); the
    columns holding one are ``CHANNEL_MAX_LENGTH`` long, enough for real names.
    """

    EMAIL = "email"
    SMS = "sms"


CHANNEL_MAX_LENGTH = 32


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Spanish"


class Patient(models.Model):
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="patients")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True, help_text="E.164, e.g. +15551230000")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    preferred_channel = models.CharField(
        max_length=CHANNEL_MAX_LENGTH, choices=Channel.choices, default=Channel.EMAIL
    )
    sms_consent = models.BooleanField(default=False)
    opted_out = models.BooleanField(
        default=False, help_text="The patient asked to receive no reminders."
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            # An inbound SMS finds the patients with its number (notifications' providers).
            models.Index(fields=["phone"], name="patient_phone", condition=~models.Q(phone="")),
        ]

    def __str__(self) -> str:
        # Admin and logs show the id, not the name: patient details stay out of logs.
        return f"Patient #{self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def _transition_guard(name: TransitionName) -> Any:  # noqa: ANN401 - django-fsm condition
    """A django-fsm condition wired to the careflow guard of one transition.

    The service evaluates the guard first (to report every reason) and leaves the facts,
    date and body it evaluated on the instance; the condition re-checks the same input so
    the model can never take a transition its guard refuses, even if called directly.
    """

    def condition(episode: Episode) -> bool:
        context = getattr(episode, "_guard_context", None)
        if context is None:
            return False
        facts, today, data = context
        return not evaluate(name, facts, today, data)

    condition.__name__ = f"guard_{name}"
    return condition


def is_team_clinician(episode: Episode, user: Any) -> bool:  # noqa: ANN401 - auth user
    """Clinician-only decisions (PATHWAY.md): a clinician of the episode's care team."""
    if user is None:
        return False
    if user.is_superuser:
        return True
    return CareTeamMembership.objects.filter(
        team_id=episode.care_team_id, user_id=user.pk, role=Role.CLINICIAN
    ).exists()


def _sources(name: TransitionName) -> list[str]:
    return sorted(str(s) for s in TRANSITIONS[name].sources)


def _target(name: TransitionName) -> Any:  # noqa: ANN401 - a state, or django-fsm's GET_STATE
    """The transition's target; where it has two, chosen by whether a referral was made."""
    spec = TRANSITIONS[name]
    if spec.target_after_referral is None:
        return str(spec.target)

    def target(episode: Episode) -> str:
        return str(spec.target_for(referral_made=episode.referral_made_on is not None))

    return GET_STATE(target, states=[str(s) for s in spec.targets])


def _permission(name: TransitionName) -> Any:  # noqa: ANN401 - django-fsm permission
    return is_team_clinician if TRANSITIONS[name].clinician_only else None


def pathway_transition(name: TransitionName) -> Any:  # noqa: ANN401 - django-fsm's decorator
    """django-fsm's ``transition`` on ``Episode.state`` for careflow's transition ``name``."""
    return transition(
        field="state",
        source=_sources(name),
        target=_target(name),
        conditions=[_transition_guard(name)],
        permission=_permission(name),
    )


def _when_set(column: str, name: str) -> models.Index:
    """A partial index on a queue's column (and ``id``, for keyset pages) where it is set."""
    return models.Index(
        fields=[column, "id"], name=name, condition=models.Q(**{f"{column}__isnull": False})
    )


def _team_when_set(column: str, name: str) -> models.Index:
    """The same, per care team first: a team's queue page is one ordered index range."""
    return models.Index(
        fields=["care_team", column, "id"],
        name=name,
        condition=models.Q(**{f"{column}__isnull": False}),
    )


class Episode(ConcurrentTransitionMixin, models.Model):
    """One patient's episode of care, moved along the pathway by its transitions only."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="episodes")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_episodes",
    )
    state = FSMField(
        default=State.CONSERVATIVE_CARE,
        choices=[(s.value, s.value) for s in State],
        protected=True,
    )
    version = models.PositiveIntegerField(default=1)
    symptom_onset = models.DateField()
    conservative_care_start = models.DateField()
    enrolled_on = models.DateField()
    # The current value of each fact (the latest assessment). Assessment rows are the
    # history; this is the cache the guards, the API and the queues read.
    facts = models.JSONField(default=dict, blank=True)
    disabling_pain_recorded_on = models.DateField(null=True, blank=True)
    neurological_deficit_recorded_on = models.DateField(null=True, blank=True)
    last_assessment_on = models.DateField(null=True, blank=True)
    education_recorded = models.BooleanField(default=False)
    referral_made_on = models.DateField(null=True, blank=True)
    # The moment of the latest referral: "after the referral" compares moments (PATHWAY.md).
    referral_made_at = models.DateTimeField(null=True, blank=True)
    resolution_reported_on = models.DateField(
        null=True,
        blank=True,
        help_text="A patient's check-in said 'resolved': the care team confirms it.",
    )
    # Derived by careflow on every write, kept as columns so queues are indexed queries.
    next_deadline = models.DateField(null=True, blank=True)
    next_deadline_rule = models.CharField(max_length=10, blank=True)
    reassessment_due_on = models.DateField(null=True, blank=True)
    # The same dates as instants in the patient's zone (careflow.schedule.queue_moments):
    # the queues compare them with now, so "today" is each patient's local date.
    overdue_from = models.DateTimeField(null=True, blank=True)
    due_soon_from = models.DateTimeField(null=True, blank=True)
    reassessment_due_from = models.DateTimeField(null=True, blank=True)
    # URG-1: the surgical review was opened while a red flag was active.
    surgical_review_urgent = models.BooleanField(default=False)
    # The urgent queue (PATHWAY.md "Red flags"). ``urgent_since``: when the episode entered
    # it, the earliest of the two reasons it is there: a red flag no one has acted on yet
    # (``flag_urgent_since``: set when a flag is raised, cleared by the transition that acts
    # on it) and a patient's red-flag report no clinician has reviewed
    # (``report_review_since``). ``urgent_rank``: careflow.urgency's rank within the queue.
    urgent_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="In the urgent queue since; cleared once what put it there is acted on.",
    )
    flag_urgent_since = models.DateTimeField(null=True, blank=True)
    report_review_since = models.DateTimeField(null=True, blank=True)
    report_review_rule = models.CharField(max_length=10, blank=True)
    urgent_rank = models.PositiveSmallIntegerField(default=0)  # 0 outside the queue
    # The oldest SMS reply from the patient that nobody of the care team has read yet
    # (notifications keeps it: notifications.models.PatientMessage); the unread_replies
    # queue reads it, oldest first.
    unread_reply_since = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["care_team", "state", "id"], name="episode_team_state"),
            models.Index(
                fields=["urgent_rank", "urgent_since", "id"],
                name="episode_urgent_order",
                condition=models.Q(urgent_since__isnull=False),
            ),
            _when_set("next_deadline", "episode_deadline"),
            _when_set("reassessment_due_on", "episode_reassessment"),
            _when_set("overdue_from", "episode_overdue_from"),
            _when_set("due_soon_from", "episode_due_soon_from"),
            _when_set("reassessment_due_from", "episode_reassessment_from"),
            models.Index(
                fields=["care_team", "id"],
                name="episode_unassigned",
                condition=models.Q(assigned_to__isnull=True),
            ),
            models.Index(fields=["assigned_to", "id"], name="episode_assignee"),
            # A coordinator's queues in their order (issue 16): with the team's id as a value,
            # PostgreSQL reads the team's part of the index in order and stops at the page.
            models.Index(
                fields=["care_team", "urgent_rank", "urgent_since", "id"],
                name="episode_team_urgent_order",
                condition=models.Q(urgent_since__isnull=False),
            ),
            _team_when_set("next_deadline", "episode_team_deadline"),
            _team_when_set("reassessment_due_on", "episode_team_reassessment"),
            _when_set("unread_reply_since", "episode_unread_reply"),
            _team_when_set("unread_reply_since", "episode_team_unread_reply"),
            # "mine" within the user's team (issue 16): the assignee's index alone left the
            # planner to guess how many of them are the team's (a tenth, it assumed), and at
            # 100k it sorted a bitmap of all 1 234 instead of reading 26 in order.
            models.Index(fields=["care_team", "assigned_to", "id"], name="episode_team_assignee"),
            # A team's open episodes in id order (issue 16, 1M): delivery_failures reads this
            # range from the cursor and checks each episode's failed reminders, so a page 5 000
            # rows deep costs what the first does (sorted: a stable migration).
            models.Index(
                fields=["care_team", "id"],
                name="episode_team_open",
                condition=models.Q(state__in=sorted(s.value for s in NON_TERMINAL_STATES)),
            ),
            # The adherence report's cohort: a team's episodes enrolled within a date range.
            models.Index(fields=["care_team", "enrolled_on"], name="episode_team_enrolled"),
        ]

    def __str__(self) -> str:
        return f"Episode #{self.pk} ({self.state})"

    # -- transitions: each changes state and nothing else; services do the rest ----------
    # Each is declared once from careflow's table (sources, target, clinician-only), with
    # its careflow guard as the django-fsm condition (``pathway_transition``).

    @pathway_transition(TransitionName.ESCALATE)
    def escalate(self) -> None:
        """RF-1..RF-5: an active red flag escalates at once."""

    @pathway_transition(TransitionName.CLEAR_ESCALATION)
    def clear_escalation(self) -> None:
        """Every red flag ruled out; clinician only."""

    @pathway_transition(TransitionName.CONFIRM_IMAGING_ELIGIBILITY)
    def confirm_imaging_eligibility(self) -> None:
        """CC-1, IM-1, IM-2 (URG-1 waives them while a red flag is active)."""

    @pathway_transition(TransitionName.SCHEDULE_ESI)
    def schedule_esi(self) -> None:
        """ESI-1, ESI-2, ESI-3; never waived."""

    @pathway_transition(TransitionName.REFER_TO_SPECIALIST)
    def refer_to_specialist(self) -> None:
        """Never blocked: it meets the REF-1/REF-2/REF-3 deadline."""

    @pathway_transition(TransitionName.BEGIN_SURGICAL_REVIEW)
    def begin_surgical_review(self) -> None:
        """SX-1, SX-2, SX-3, CC-1 (URG-1 waives the elective parts); clinician only."""

    @pathway_transition(TransitionName.DECLINE_SURGERY)
    def decline_surgery(self) -> None:
        """Back to specialist care; the reason is recorded."""

    @pathway_transition(TransitionName.PLAN_SURGERY)
    def plan_surgery(self) -> None:
        """SX-4, SX-5; clinician only."""

    @pathway_transition(TransitionName.DECLARE_REFRACTORY)
    def declare_refractory(self) -> None:
        """RX-1."""

    @pathway_transition(TransitionName.RESOLVE)
    def resolve(self) -> None:
        """Symptoms resolved (terminal)."""

    @pathway_transition(TransitionName.CLOSE)
    def close(self) -> None:
        """Ended for another reason (terminal); the closure reason is recorded."""


class Source(models.TextChoices):
    USER = "user"
    SYSTEM = "system"
    PATIENT = "patient"


class Assessment(models.Model):
    """One recording of some facts: append-only; the latest value of each is current."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="assessments")
    values = models.JSONField(help_text="The facts this assessment recorded.")
    note = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"Assessment #{self.pk} of episode #{self.episode_id}"

    def clean(self) -> None:
        unknown = set(self.values) - set(BOOLEAN_FACTS)
        if unknown:
            raise ValidationError({"values": f"unknown facts: {sorted(unknown)}"})


class RedFlagStatus(models.TextChoices):
    ACTIVE = "active"
    RULED_OUT = "ruled_out"


class RedFlag(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="red_flags")
    sign = models.CharField(max_length=40, choices=[(s.value, s.value) for s in Sign])
    category = models.CharField(max_length=5)
    status = models.CharField(
        max_length=10, choices=RedFlagStatus.choices, default=RedFlagStatus.ACTIVE
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    note = models.TextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_on = models.DateField(help_text="The patient-local date it was raised.")
    ruled_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ruled_out_at = models.DateTimeField(null=True, blank=True)
    ruled_out_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["raised_at", "id"]

    def __str__(self) -> str:
        return f"{self.sign} ({self.category}, {self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.category = CATEGORY_OF_SIGN[Sign(self.sign)]
        super().save(*args, **kwargs)


class RedFlagReport(models.Model):
    """A red-flag symptom a patient reported on a check-in: never absorbed (PATHWAY.md).

    Every reported sign is kept, with the check-in's reminder. One that raised its flag is
    acted on as that flag. One whose flag was already active, or reported on a resolved or
    closed episode, alerts the care team again and puts the episode in the urgent queue
    until a clinician reviews it (``review_patient_report``): by an assessment recorded
    after it, or, on an ended episode, by reviewing it with a note.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="red_flag_reports")
    sign = models.CharField(max_length=40, choices=[(s.value, s.value) for s in Sign])
    category = models.CharField(max_length=5)
    # The flag it raised, or the active flag it reports again (none on an ended episode).
    red_flag = models.ForeignKey(
        RedFlag, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    raised_flag = models.BooleanField(help_text="It raised its flag: nothing to review.")
    # The check-in's reminder (notifications' row: episodes sits below it, so an id).
    reminder_id = models.BigIntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(auto_now_add=True)
    reported_on = models.DateField(help_text="The patient-local date it was reported.")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["reported_at", "id"]
        indexes: ClassVar = [
            models.Index(
                fields=["episode", "reported_at"],
                name="red_flag_report_unreviewed",
                condition=models.Q(raised_flag=False, reviewed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Red-flag report #{self.pk} ({self.category})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.category = CATEGORY_OF_SIGN[Sign(self.sign)]
        super().save(*args, **kwargs)

    @property
    def needs_review(self) -> bool:
        return not self.raised_flag and self.reviewed_at is None


class ImagingStudy(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="imaging")
    modality = models.CharField(max_length=40, default="mri_lumbar_without_contrast")
    performed_on = models.DateField()
    nerve_root_compression = models.BooleanField(default=False)
    level = models.CharField(max_length=20, blank=True)
    clinically_correlated = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["performed_on", "id"]
        verbose_name_plural = "imaging studies"

    def __str__(self) -> str:
        return f"{self.modality} on {self.performed_on}"


class CarePlanItem(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="care_plan")
    item = models.CharField(max_length=40)
    category = models.CharField(max_length=20)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    positive_medial_branch_block = models.BooleanField(default=False)
    flags = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.item} ({self.category})"


class EsiPlan(models.Model):
    """What `schedule_esi` records (ESI-1, ESI-2)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="esi_plans")
    guidance = models.CharField(max_length=20)
    approach = models.CharField(max_length=20)
    patient_consented = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ESI ({self.guidance}, {self.approach})"


class Urgency(models.TextChoices):
    IMMEDIATE = "immediate"
    WITHIN_2_WEEKS = "within_2_weeks"
    ROUTINE = "routine"


class Referral(models.Model):
    """What `refer_to_specialist` records, and whether it met the REF deadline."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="referrals")
    urgency = models.CharField(max_length=20, choices=Urgency.choices)
    reason = models.TextField(blank=True)
    made_on = models.DateField()
    due_on = models.DateField(null=True, blank=True)
    due_rule = models.CharField(max_length=10, blank=True)
    due_date_met = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Referral ({self.urgency}) on {self.made_on}"


class SurgeryPlan(models.Model):
    """What `plan_surgery` records (SX-4, SX-5)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="surgery_plans")
    procedure = models.CharField(max_length=20)
    technique = models.CharField(max_length=20, blank=True)
    # One code, or several joined by commas (SX-5: a reoperation names its qualifier too).
    fusion_indication = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.procedure} ({self.technique or self.fusion_indication})"


class ClosureReason(models.TextChoices):
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    DECEASED = "deceased"
    OTHER = "other"


class Closure(models.Model):
    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="closure")
    reason = models.CharField(max_length=20, choices=ClosureReason.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Closed: {self.reason}"


class AppendOnlyError(Exception):
    """An audit row was asked to change; they are written once."""


class AppendOnly:
    """An audit row: written once, never changed or deleted (not even through the ORM)."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:  # type: ignore[attr-defined]
            msg = f"{type(self).__name__} rows are append-only"
            raise AppendOnlyError(msg)
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401, ARG002 - Django's signature
        msg = f"{type(self).__name__} rows are append-only"
        raise AppendOnlyError(msg)


class TransitionLog(AppendOnly, models.Model):
    """Append-only: who moved the episode, when, why, and on which facts."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="transitions")
    transition = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30)
    to_state = models.CharField(max_length=30)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    at = models.DateTimeField(auto_now_add=True)
    body = models.JSONField(default=dict, blank=True)
    facts_snapshot = models.JSONField()
    evaluated_on = models.DateField()
    pathway_version = models.CharField(max_length=20)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.transition}: {self.from_state} -> {self.to_state}"


class CorrectedField(models.TextChoices):
    SYMPTOM_ONSET = "symptom_onset"
    CONSERVATIVE_CARE_START = "conservative_care_start"
    BIRTH_DATE = "birth_date"


class Correction(AppendOnly, models.Model):
    """A corrected date (PATHWAY.md "Facts change over time"): old and new, who and why.

    A birth date belongs to the patient (``episode`` is null) and shows on the timeline of
    each of the patient's episodes. Append-only, like the transition log.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="corrections")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.CASCADE, related_name="corrections"
    )
    field = models.CharField(max_length=30, choices=CorrectedField.choices)
    old_value = models.DateField()
    new_value = models.DateField()
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.field} corrected ({self.old_value} -> {self.new_value})"
