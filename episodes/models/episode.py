"""The episode and its pathway state machine: each transition declared once from careflow."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django_fsm import GET_STATE, ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition

from careflow.guards import evaluate
from careflow.states import NON_TERMINAL_STATES, TRANSITIONS, State, TransitionName
from careflow.urgency import NOT_URGENT_RANK
from episodes.models.people import CareTeam, CareTeamMembership, Patient, Role


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


def _as_read(value: Any) -> Any:  # noqa: ANN401 - any column's value
    """A column's value to compare later; a JSON value as its text.

    Text, so a ``facts`` dict changed in place still compares as changed.
    """
    return (
        json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
    )


@cache
def _written_fields(model: type[models.Model]) -> tuple[tuple[str, str], ...]:
    """(name, attname) of each column a save writes: neither the key nor a generated one."""
    return tuple(
        (f.name, f.attname)
        for f in model._meta.concrete_fields  # noqa: SLF001 - Django's public _meta API
        if not f.primary_key and not f.generated
    )


@cache
def _state_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    return tuple(f for f in model._meta.fields if isinstance(f, FSMFieldMixin))  # noqa: SLF001


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
    # "Most pressing first" for the queues without an order of their own (unassigned, mine,
    # each state's): careflow.urgency.pressing_order as two columns PostgreSQL computes on
    # every write, never NULL, so a page of those queues is one keyset range of an index.
    pressing_rank = models.GeneratedField(
        expression=Case(
            When(urgent_since__isnull=False, then=F("urgent_rank")),
            default=Value(NOT_URGENT_RANK),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    pressing_deadline = models.GeneratedField(
        expression=Coalesce(F("next_deadline"), Value(date.max)),
        output_field=models.DateField(),
        db_persist=True,
    )
    # The oldest SMS reply from the patient that nobody of the care team has read yet
    # (notifications keeps it: notifications.models.PatientMessage); the unread_replies
    # queue reads it, oldest first.
    unread_reply_since = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    # The diagnosis code the episode was enrolled with, as the referrer sent it (an ICD-10-CM
    # or SNOMED CT code of this pathway: interop.codes.ENROLLABLE); blank: none was sent.
    condition_system = models.CharField(max_length=255, blank=True, default="")
    condition_code = models.CharField(max_length=32, blank=True, default="")
    # The referrer's notes on the condition (FHIR Condition.note), each as written.
    condition_notes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes: ClassVar = [
            # A state's queue, most pressing first (pressing_order).
            models.Index(
                fields=["care_team", "state", "pressing_rank", "pressing_deadline", "id"],
                name="episode_team_state_pressing",
            ),
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
                fields=["care_team", "pressing_rank", "pressing_deadline", "id"],
                name="episode_unassigned_pressing",
                condition=models.Q(assigned_to__isnull=True),
            ),
            models.Index(fields=["assigned_to", "id"], name="episode_assignee"),
            # A coordinator's queues in their order: with the team's id as a value,
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
            # "mine" within the user's team: the assignee's index alone left the
            # planner to guess how many of them are the team's (a tenth, it assumed), and at
            # 100k it sorted a bitmap of all 1 234 instead of reading 26 in order.
            models.Index(
                fields=["care_team", "assigned_to", "pressing_rank", "pressing_deadline", "id"],
                name="episode_team_assignee_pressing",
            ),
            # A team's open episodes in id order (measured at 1M): delivery_failures reads this
            # range from the cursor and checks each episode's failed reminders, so a page 5 000
            # rows deep costs what the first does (sorted: a stable migration).
            models.Index(
                fields=["care_team", "id"],
                name="episode_team_open",
                condition=models.Q(state__in=sorted(s.value for s in NON_TERMINAL_STATES)),
            ),
            # The adherence report's cohort: a team's episodes enrolled within a date range.
            models.Index(fields=["care_team", "enrolled_on"], name="episode_team_enrolled"),
            # A team's queue pages in the workspace's other orders (queue_rows.SORTS): read
            # from the cursor in order, each entry checked against the queue's condition.
            models.Index(fields=["care_team", "symptom_onset", "id"], name="episode_team_onset"),
            models.Index(
                fields=["care_team", "conservative_care_start", "id"],
                name="episode_team_care_start",
            ),
            # A team's episodes changed since a moment, or newest first (the FHIR facade's
            # _lastUpdated and _sort, an integrator's sync): at 100k, 54-80 ms scanning the
            # team's 10,000 without it, 0.3-2.5 ms with it.
            models.Index(fields=["care_team", "updated_at", "id"], name="episode_team_updated"),
            # A team's episodes by the condition's code (FHIR's Condition?code=): the search's
            # bounded count of a team's 100,000 at 1M read the table (62 ms), this index
            # alone 3.6 ms.
            models.Index(fields=["care_team", "condition_code"], name="episode_team_condition"),
        ]

    def __str__(self) -> str:
        return f"Episode #{self.pk} ({self.state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self.saved(kwargs.get("update_fields"))  # a field left out stays "changed"

    @property
    def state_fields(self) -> tuple[models.Field[Any, Any], ...]:
        """django-fsm's state fields, found once: it filtered every field on every row read.

        ConcurrentTransitionMixin records each state field's value when a row is read (the
        save then updates only while the state is still the one read); walking the model's
        thirty fields for that cost 8 us a row, the found tuple 1-2 us.
        """
        return _state_fields(type(self))

    # -- the write's UPDATE: only the columns the write changed ---------------------------
    # A write locks the row (episodes.services.checks.lock), changes the episode in memory
    # and ends with one save (derived.after_write). Writing every column compiled and sent
    # some thirty values for the few a write changes; ``changed_fields`` names those few.

    def track_changes(self) -> None:
        """Remember the columns as they are now (read under the write's lock)."""
        loaded = self.__dict__
        self._columns_as_read = {
            attname: _as_read(loaded[attname])
            for _name, attname in _written_fields(type(self))
            if attname in loaded
        }

    def changed_fields(self) -> list[str] | None:
        """The fields changed since ``track_changes`` (or the last save), with ``updated_at``.

        ``None`` when the episode was not tracked: save every column.
        """
        read = getattr(self, "_columns_as_read", None)
        if read is None:
            return None
        loaded = self.__dict__
        return [
            name
            for name, attname in _written_fields(type(self))
            if attname in loaded
            and attname != "updated_at"
            and _as_read(loaded[attname]) != read.get(attname)
        ] + ["updated_at"]

    def saved(self, fields: Iterable[str] | None) -> None:
        """What was saved (``fields``, or every column) is what the row holds now."""
        read = getattr(self, "_columns_as_read", None)
        if read is None:
            return
        names = None if fields is None else set(fields)
        loaded = self.__dict__
        for name, attname in _written_fields(type(self)):
            if (names is None or name in names or attname in names) and attname in loaded:
                read[attname] = _as_read(loaded[attname])

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
