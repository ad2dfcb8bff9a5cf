"""A fast generator of realistic Careflow data, written with PostgreSQL COPY.

Episodes spread over every pathway state, with facts, red flags (raised and ruled out),
imaging, an assessment each, and their reminders: sent in the past, scheduled ahead,
cancelled where they no longer serve, a few failed or skipped. Care teams, coordinators
and clinicians come first (through the ORM: they are few).

Every derived column the queues read (``next_deadline``, ``next_deadline_rule``,
``reassessment_due_on``, ``urgent_since``) and every reminder's ``due_at``, channel and
status come from the same careflow and notifications functions the services call
(``deadlines``, ``milestones``, ``derived_signs``, ``patient_due_at``, ``care_team_due_at``,
``patient_channel``, the "still serves" rule); tests/bench/test_generator.py re-runs the
services on a sample and checks that they change nothing.

Rows get explicit ids (allocated above the tables' current maximum; the identity sequences
are moved past them at the end), so foreign keys need no round trip; one transaction per
chunk of episodes keeps memory flat at any size. PostgreSQL only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from careflow.deadlines import REASSESSMENT, Milestone, deadlines, milestones
from careflow.facts import BOOLEAN_FACTS, Facts, ImagingFinding
from careflow.redflags import CATEGORY_OF_SIGN, DERIVED_SIGNS, Sign, derived_signs
from careflow.redflags import RedFlag as RedFlagFact
from careflow.schedule import queue_moments
from careflow.states import ESCALATING_STATES, TERMINAL_STATES, State
from careflow.urgency import urgent_rank
from episodes.models import (
    Assessment,
    CareTeam,
    CareTeamMembership,
    Episode,
    ImagingStudy,
    Patient,
    RedFlag,
    Role,
)
from notifications.models import (
    RED_FLAG_MILESTONE_PREFIX,
    Audience,
    PatientMessage,
    PatientMessageKind,
    Reminder,
    ReminderChannel,
    ReminderStatus,
)
from notifications.services import (
    _still_serves,
    care_team_due_at,
    patient_channel,
    patient_due_at,
)

PASSWORD = "careflow-bench"  # noqa: S105 - benchmark users on a throw-away database
TEAMS = 10
COORDINATORS_PER_TEAM = 3
CLINICIANS_PER_TEAM = 2
CHUNK = 20_000

# Share of episodes per state (weights): most are early in the pathway.
STATE_WEIGHTS: dict[State, int] = {
    State.CONSERVATIVE_CARE: 44,
    State.URGENT_ESCALATION: 3,
    State.IMAGING_ELIGIBLE: 10,
    State.ESI: 8,
    State.SPECIALIST_REFERRAL: 10,
    State.SURGICAL_REVIEW: 4,
    State.SURGERY: 2,
    State.REFRACTORY: 1,
    State.RESOLVED: 13,
    State.CLOSED: 5,
}
AFTER_REFERRAL = frozenset(
    {State.SPECIALIST_REFERRAL, State.SURGICAL_REVIEW, State.SURGERY, State.REFRACTORY}
)
TIMEZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/Madrid",
    "Europe/London",
    "Pacific/Auckland",
)
GIVEN = ("Ana", "Luis", "Maria", "John", "Mei", "Omar", "Sara", "Ivan", "Lena", "Tom")
FAMILY = ("Ruiz", "Smith", "Garcia", "Chen", "Khan", "Novak", "Okafor", "Berg", "Rossi")
FLAG_SIGNS = tuple(s for s in Sign if s not in DERIVED_SIGNS)
LEVELS = ("L4-L5", "L5-S1", "L3-L4")


@dataclass
class Summary:
    teams: int = 0
    users: int = 0
    episodes: int = 0
    reminders: int = 0
    red_flags: int = 0
    counts_by_state: dict[str, int] = field(default_factory=dict)


@dataclass
class _Ids:
    """Next free id per table (explicit ids: children reference parents without a query)."""

    next: dict[str, int]

    def take(self, model: type[models.Model]) -> int:
        table = model._meta.db_table  # noqa: SLF001 - Django's public _meta API
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _columns(model: type[models.Model]) -> list[str]:
    """The columns COPY writes: a generated one (``Reminder.alert``) the database computes."""
    fields = model._meta.concrete_fields  # noqa: SLF001
    return [f.column for f in fields if not f.generated]


def _table(model: type[models.Model]) -> str:
    return model._meta.db_table  # noqa: SLF001


COPIED: tuple[type[models.Model], ...] = (
    Patient,
    Episode,
    Assessment,
    RedFlag,
    ImagingStudy,
    Reminder,
    PatientMessage,
)


@cache
def _patient_due(on: date, tz: str) -> datetime:
    return patient_due_at(on, Patient(timezone=tz))


@cache
def _team_due(on: date) -> datetime:
    return care_team_due_at(on)


def staff(*, teams: int = TEAMS) -> tuple[list[CareTeam], dict[int, list[Any]]]:
    """Care teams and their members (coordinators first), with API tokens; idempotent."""
    user_model = get_user_model()
    password = make_password(PASSWORD)
    out_teams, members = [], {}
    for t in range(teams):
        team, _ = CareTeam.objects.get_or_create(
            name=f"Bench team {t + 1}", defaults={"email": f"bench-team-{t + 1}@example.org"}
        )
        out_teams.append(team)
        people = []
        roles = [Role.COORDINATOR] * COORDINATORS_PER_TEAM + [Role.CLINICIAN] * CLINICIANS_PER_TEAM
        for n, role in enumerate(roles):
            user, _ = user_model.objects.get_or_create(
                username=f"bench-{role}-{t + 1}-{n + 1}",
                defaults={"password": password, "email": f"bench-{t + 1}-{n + 1}@example.org"},
            )
            CareTeamMembership.objects.get_or_create(team=team, user=user, defaults={"role": role})
            people.append(user)
        members[team.pk] = people
    return out_teams, members


def _facts(ep: dict[str, Any], birth: date, flags: list[dict], imaging: list[dict]) -> Facts:
    """The Facts episode_facts() builds from these rows (selectors.episode_facts)."""
    current = ep["facts"]
    return Facts(
        symptom_onset=ep["symptom_onset"],
        conservative_care_start=ep["conservative_care_start"],
        birth_date=birth,
        **{name: bool(current.get(name, False)) for name in BOOLEAN_FACTS},
        disabling_pain_recorded_on=ep["disabling_pain_recorded_on"],
        neurological_deficit_recorded_on=ep["neurological_deficit_recorded_on"],
        active_red_flags=tuple(
            RedFlagFact(sign=f["sign"], raised_on=f["raised_on"], raised_at=f["raised_at"])
            for f in flags
            if f["status"] == "active"
        ),
        imaging=tuple(
            ImagingFinding(
                modality=s["modality"],
                performed_on=s["performed_on"],
                nerve_root_compression=s["nerve_root_compression"],
                clinically_correlated=s["clinically_correlated"],
                level=s["level"],
            )
            for s in imaging
        ),
        referral_made_on=ep["referral_made_on"],
        referral_made_at=ep["referral_made_at"],
        education_recorded=ep["education_recorded"],
        last_assessment_on=ep["last_assessment_on"],
        enrolled_on=ep["enrolled_on"],
        resolution_reported_on=ep["resolution_reported_on"],
    )


class _Maker:
    """Builds the rows of one episode at a time, deterministic for a seed."""

    def __init__(
        self, *, seed: int, now: datetime, teams: list[CareTeam], members: dict, ids: _Ids
    ) -> None:
        # Not cryptographic: repeatable demo data from a seed.
        self.rng = random.Random(seed)  # noqa: S311
        self.now = now
        self.today = timezone.localdate(now)
        self.teams = teams
        self.members = members
        self.ids = ids
        self.states = list(STATE_WEIGHTS)
        self.weights = list(STATE_WEIGHTS.values())

    def _day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    def _moment(self, on: date) -> datetime:
        return datetime.combine(on, datetime.min.time(), tzinfo=self.now.tzinfo) + timedelta(
            minutes=self.rng.randint(8 * 60, 18 * 60)
        )

    def episode(self, index: int) -> dict[str, list[dict[str, Any]]]:
        rng, today = self.rng, self.today
        team = self.teams[index % len(self.teams)]
        people = self.members[team.pk]
        tz = rng.choice(TIMEZONES)
        onset = today - timedelta(days=rng.randint(0, 210))
        start = min(onset + timedelta(days=rng.randint(0, 14)), today)
        birth = date(rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28))
        sms = rng.random() < 0.3
        patient = {
            "id": self.ids.take(Patient),
            "care_team_id": team.pk,
            "given_name": rng.choice(GIVEN),
            "family_name": f"{rng.choice(FAMILY)}{index}",
            "birth_date": birth,
            "email": f"patient{index}@example.org",
            "phone": f"+1555{index % 10_000_000:07d}",
            "timezone": tz,
            "preferred_channel": ReminderChannel.SMS if sms else ReminderChannel.EMAIL,
            "sms_consent": sms and rng.random() < 0.9,
            "opted_out": rng.random() < 0.02,
            "language": "es" if rng.random() < 0.15 else "en",
            # Enrolled through the API or the workspace: no MRN, gender or coded condition
            # (those come with a FHIR enrolment).
            "identifier_system": "",
            "identifier_value": "",
            "gender": "",
            "created_at": self._moment(start),
            "updated_at": self._moment(start),
        }
        state = rng.choices(self.states, self.weights)[0]
        facts = {
            "radicular_pain": rng.random() < 0.85,
            "disabling_pain": rng.random() < 0.15,
            "neurological_deficit": rng.random() < 0.05,
            "conservative_therapy_failed": state != State.CONSERVATIVE_CARE and rng.random() < 0.7,
            "function_significantly_limited": rng.random() < 0.4,
            "candidate_for_esi": state in {State.ESI, State.IMAGING_ELIGIBLE}
            and rng.random() < 0.6,
            "candidate_for_surgery": state in {State.SURGICAL_REVIEW, State.SURGERY},
            "biopsychosocial_assessment_done": state == State.SURGERY,
        }
        # RF-3 is derived by the system (over 50 at onset with new-onset pain): give new-onset
        # pain to the over-50s only where the flag and its escalation are generated too.
        age_at_onset = (onset - birth).days // 365
        facts["new_onset_pain"] = rng.random() < 0.3 and (
            age_at_onset < 50 or state == State.URGENT_ESCALATION
        )
        assessed = self._day_between(start, today)
        ep = {
            "id": self.ids.take(Episode),
            "patient_id": patient["id"],
            "care_team_id": team.pk,
            "assigned_to_id": rng.choice(people).pk if rng.random() < 0.6 else None,
            "state": state.value,
            "version": rng.randint(1, 6),
            "symptom_onset": onset,
            "conservative_care_start": start,
            "enrolled_on": start,
            "facts": facts,
            "disabling_pain_recorded_on": assessed if facts["disabling_pain"] else None,
            "neurological_deficit_recorded_on": assessed if facts["neurological_deficit"] else None,
            "last_assessment_on": assessed,
            "education_recorded": rng.random() < 0.8,
            "condition_system": "",
            "condition_code": "",
            "condition_notes": "[]",
            "referral_made_on": None,
            "resolution_reported_on": None,
            # No patient's red-flag report waits for review in generated data.
            "report_review_since": None,
            "report_review_rule": "",
            "surgical_review_urgent": False,
            "unread_reply_since": None,  # set below for the episodes with an unread reply
            "state_changed_at": self._moment(assessed),
            "created_at": self._moment(start),
            "updated_at": self._moment(assessed),
        }
        if state in AFTER_REFERRAL or (state in TERMINAL_STATES and rng.random() < 0.4):
            ep["referral_made_on"] = self._day_between(start, today)
        ep["referral_made_at"] = (
            None if ep["referral_made_on"] is None else self._moment(ep["referral_made_on"])
        )
        if state == State.CONSERVATIVE_CARE and rng.random() < 0.02:
            ep["resolution_reported_on"] = assessed
        flags: list[dict[str, Any]] = []

        def flag(sign: str, *, status: str, source: str = "user") -> None:
            raised_on = self._day_between(start, today)
            flags.append(
                {
                    "id": self.ids.take(RedFlag),
                    "episode_id": ep["id"],
                    "sign": sign,
                    "category": CATEGORY_OF_SIGN[Sign(sign)],
                    "status": status,
                    "source": source,
                    "note": "",
                    "raised_by_id": None if source == "system" else rng.choice(people).pk,
                    "raised_at": self._moment(raised_on),
                    "raised_on": raised_on,
                    "ruled_out_by_id": rng.choice(people).pk if status == "ruled_out" else None,
                    "ruled_out_at": self._moment(today) if status == "ruled_out" else None,
                    "ruled_out_note": "",
                }
            )

        for sign in sorted(
            derived_signs(
                birth_date=birth, symptom_onset=onset, new_onset_pain=facts["new_onset_pain"]
            )
        ):
            flag(sign, status="active", source="system")
        if (state == State.URGENT_ESCALATION and not flags) or (
            state in {State.SURGICAL_REVIEW, State.SURGERY} and rng.random() < 0.05
        ):
            flag(rng.choice(FLAG_SIGNS), status="active")
        if rng.random() < 0.04:
            flag(rng.choice(FLAG_SIGNS), status="ruled_out")
        imaging = []
        if state not in {State.CONSERVATIVE_CARE, State.URGENT_ESCALATION} and rng.random() < 0.7:
            imaging.append(
                {
                    "id": self.ids.take(ImagingStudy),
                    "episode_id": ep["id"],
                    "modality": "mri_lumbar_without_contrast",
                    "performed_on": self._day_between(start, today),
                    "nerve_root_compression": rng.random() < 0.8,
                    "level": rng.choice(LEVELS),
                    "clinically_correlated": rng.random() < 0.7,
                    "recorded_by_id": rng.choice(people).pk,
                    "recorded_at": self._moment(today),
                }
            )
        facts_obj = _facts(ep, birth, flags, imaging)
        # services._after_write: the derived columns the queues read.
        open_deadlines = deadlines(state, facts_obj)
        first = open_deadlines[0] if open_deadlines else None
        reassessment = next((d for d in open_deadlines if d.kind == REASSESSMENT), None)
        ep["next_deadline"] = first.due if first else None
        ep["next_deadline_rule"] = first.rule if first else ""
        ep["reassessment_due_on"] = reassessment.due if reassessment else None
        moments = queue_moments(
            next_deadline=ep["next_deadline"],
            reassessment_due_on=ep["reassessment_due_on"],
            zone=ZoneInfo(patient["timezone"]),
        )
        ep["overdue_from"] = moments.overdue_from
        ep["due_soon_from"] = moments.due_soon_from
        ep["reassessment_due_from"] = moments.reassessment_due_from
        active = [f for f in flags if f["status"] == "active"]
        keeps_urgent = state == State.URGENT_ESCALATION or (
            state not in ESCALATING_STATES and state not in TERMINAL_STATES
        )
        ep["flag_urgent_since"] = (
            min(f["raised_at"] for f in active) if active and keeps_urgent else None
        )
        ep["urgent_since"] = ep["flag_urgent_since"]
        ep["urgent_rank"] = urgent_rank(facts_obj) if ep["urgent_since"] else 0
        ep["facts"] = json.dumps(facts)
        assessment = {
            "id": self.ids.take(Assessment),
            "episode_id": ep["id"],
            "values": ep["facts"],
            "note": "",
            "source": "user",
            "recorded_by_id": rng.choice(people).pk,
            "recorded_at": self._moment(assessed),
        }
        reminders = self._reminders(ep, patient, state, facts_obj, flags)
        replies = self._replies(ep, patient, state)
        return {
            "patient": [patient],
            "episode": [ep],
            "assessment": [assessment],
            "red_flag": flags,
            "imaging": imaging,
            "reminder": reminders,
            "patient_message": replies,
        }

    def _replies(self, ep: dict, patient: dict, state: State) -> list[dict[str, Any]]:
        """An unread SMS reply on about 2 % of the open episodes with a phone.

        Chosen by the episode's id, not the shared random stream, so every other generated
        row is what it would be without them.
        """
        if state in TERMINAL_STATES or not patient["phone"] or ep["id"] * 2654435761 % 100 >= 2:
            return []
        received = self.now - timedelta(minutes=ep["id"] % (3 * 24 * 60))
        ep["unread_reply_since"] = received
        return [
            {
                "id": self.ids.take(PatientMessage),
                "episode_id": ep["id"],
                "provider_message_id": f"SMbench{ep['id']:026d}",
                "kind": PatientMessageKind.REPLY.value,
                "body": "Is my appointment still on?",
                "from_number": patient["phone"],
                "received_at": received,
                "read_at": None,
                "read_by_id": None,
            }
        ]

    def _reminders(
        self, ep: dict, patient: dict, state: State, facts: Facts, flags: list[dict]
    ) -> list[dict[str, Any]]:
        """notifications.services.reminders_sync's rows, with a history for past ones."""
        rng, now = self.rng, self.now
        shell = Episode(
            state=state.value,
            referral_made_on=ep["referral_made_on"],
            patient=Patient(
                timezone=patient["timezone"],
                opted_out=patient["opted_out"],
                phone=patient["phone"],
                sms_consent=patient["sms_consent"],
                preferred_channel=patient["preferred_channel"],
            ),
        )
        rows = []
        for mark in milestones(facts):
            for audience in (Audience.PATIENT, Audience.CARE_TEAM):
                if audience == Audience.PATIENT:
                    due_at = _patient_due(mark.on, patient["timezone"])
                    channel = patient_channel(shell.patient)
                else:
                    due_at, channel = _team_due(mark.on), ReminderChannel.EMAIL
                row = self._reminder(
                    ep, mark.milestone.value, audience, channel, on=mark.on, due_at=due_at
                )
                if due_at <= now:
                    self._history(row)
                elif why_not := _still_serves(shell, Milestone(mark.milestone), audience):
                    row["status"], row["status_reason"] = ReminderStatus.CANCELLED, why_not
                rows.append(row)
        for f in flags:
            row = self._reminder(
                ep,
                f"{RED_FLAG_MILESTONE_PREFIX}{f['id']}",
                Audience.CARE_TEAM,
                ReminderChannel.EMAIL,
                on=f["raised_on"],
                due_at=f["raised_at"],
            )
            self._history(row)
            rows.append(row)
        rng.shuffle(rows)  # ids not in due order, as after months of edits
        for row in rows:
            row["id"] = self.ids.take(Reminder)
        return rows

    @staticmethod
    def _reminder(
        ep: dict, milestone: str, audience: str, channel: str, *, on: date, due_at: datetime
    ) -> dict[str, Any]:
        return {
            "episode_id": ep["id"],
            "milestone": milestone,
            "audience": audience,
            "channel": channel,
            "milestone_date": on,
            "due_at": due_at,
            "next_attempt_at": due_at,
            "status": ReminderStatus.SCHEDULED,
            "attempts": 0,
            "claim_token": "",
            "lease_expires_at": None,
            "last_error": "",
            "status_reason": "",
            "sent_at": None,
            "provider_message_id": "",
            "created_at": ep["created_at"],
            "updated_at": ep["created_at"],
        }

    def _history(self, row: dict[str, Any]) -> None:
        """A reminder whose time has come: sent, mostly; a few failed or skipped."""
        draw = self.rng.random()
        if draw < 0.01:
            row.update(
                status=ReminderStatus.FAILED,
                attempts=5,
                last_error="SMTP 550",
                status_reason="permanent error",
            )
        elif draw < 0.015:
            row.update(
                status=ReminderStatus.SKIPPED,
                status_reason="more than 7 days late when it would go out",
            )
        else:
            sent = row["due_at"] + timedelta(seconds=self.rng.randint(1, 90))
            row.update(
                status=ReminderStatus.SENT,
                attempts=1,
                sent_at=sent,
                provider_message_id=f"gen-{self.rng.getrandbits(48):012x}",
                updated_at=sent,
            )


def _next_ids(cursor: Any) -> _Ids:
    out = {}
    for model in COPIED:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_table(model)}")
        out[_table(model)] = cursor.fetchone()[0]
    return _Ids(out)


def _copy(cursor: Any, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    columns = _columns(model)
    sql = f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


KIND_MODEL: dict[str, type[models.Model]] = {
    "patient": Patient,
    "episode": Episode,
    "assessment": Assessment,
    "red_flag": RedFlag,
    "imaging": ImagingStudy,
    "reminder": Reminder,
    "patient_message": PatientMessage,
}


def _chunks(count: int, size: int) -> Iterator[range]:
    for start in range(0, count, size):
        yield range(start, min(start + size, count))


def generate(
    count: int,
    *,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Add ``count`` episodes (with patients, facts, flags, imaging, reminders)."""
    now = now or timezone.now()
    teams, members = staff()
    summary = Summary(teams=len(teams), users=sum(len(m) for m in members.values()))
    connection.ensure_connection()
    with connection.cursor() as django_cursor:
        ids = _next_ids(django_cursor)
    maker = _Maker(seed=seed, now=now, teams=teams, members=members, ids=ids)
    offset = ids.next[_table(Episode)]  # names stay unique across repeated runs
    for chunk in _chunks(count, CHUNK):
        batch: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KIND_MODEL}
        for index in chunk:
            for kind, rows in maker.episode(offset + index).items():
                batch[kind].extend(rows)
        with transaction.atomic(), connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # psycopg's own cursor, for COPY
            cursor.execute("SET LOCAL synchronous_commit = off")
            for kind, model in KIND_MODEL.items():
                _copy(cursor, model, batch[kind])
        summary.episodes += len(chunk)
        summary.reminders += len(batch["reminder"])
        summary.red_flags += len(batch["red_flag"])
        for ep in batch["episode"]:
            summary.counts_by_state[ep["state"]] = summary.counts_by_state.get(ep["state"], 0) + 1
        if progress:
            progress(f"{summary.episodes:,} / {count:,} episodes")
    with connection.cursor() as cursor:
        for model in COPIED:
            table = _table(model)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        for model in COPIED:
            cursor.execute(f"ANALYZE {_table(model)}")
    return summary
