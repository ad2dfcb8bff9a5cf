"""A claimed batch's rows as plain values: what delivery reads, without ORM objects.

Read as models, a worker's batch (``batch.deliver_claimed``) builds a Reminder, an Episode
(django-fsm reads its state on every one built), a Patient and a CareTeam per row: 22 % of
a worker's samples under py-spy. One query reads the columns delivery needs (``COLUMNS``,
the ORM's statement compiled once per process: ``read_columns``) into the small types
below. They carry the attributes, under the same names, that the "still serves" rule
(``services.reminder_why_not``), quiet hours, rendering (``messages.render_message``),
addressing (``DeliveryChannel.address``/``why_not`` take a ``Contact``) and the begin and
finish statements read of a reminder: a ``DeliveryRow`` goes where a Reminder went.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from notifications.models import Reminder


@dataclass(slots=True)
class _Row:
    """Its primary key as ``id`` and ``pk``, as a model has it."""

    id: int

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True)
class RowPatient(_Row):
    given_name: str
    email: str
    phone: str
    timezone: str
    preferred_channel: str
    sms_consent: bool
    opted_out: bool
    language: str


@dataclass(slots=True)
class RowTeam(_Row):
    email: str


@dataclass(slots=True)
class RowEpisode(_Row):
    state: str
    referral_made_on: date | None
    patient: RowPatient
    care_team: RowTeam


@dataclass(slots=True)
class DeliveryRow(_Row):
    """One claimed reminder with its episode, patient and team: what delivery reads."""

    episode_id: int
    milestone: str
    audience: str
    channel: str
    milestone_date: date
    due_at: datetime
    attempts: int
    episode: RowEpisode


# What delivery reads of a reminder, its episode, patient and care team, in the order
# ``delivery_rows`` unpacks them.
COLUMNS = (
    "id",
    "episode_id",
    "milestone",
    "audience",
    "channel",
    "milestone_date",
    "due_at",
    "attempts",
    "episode__state",
    "episode__referral_made_on",
    "episode__patient_id",
    "episode__patient__given_name",
    "episode__patient__email",
    "episode__patient__phone",
    "episode__patient__timezone",
    "episode__patient__preferred_channel",
    "episode__patient__sms_consent",
    "episode__patient__opted_out",
    "episode__patient__language",
    "episode__care_team_id",
    "episode__care_team__email",
)


def delivery_rows(ids: Iterable[int]) -> dict[int, DeliveryRow]:
    """The rows by id, with their episode, patient and team: one query, no model built.

    A patient or team that several rows share is one object, as ``select_related`` would
    not make it; nothing here writes to them.
    """
    patients: dict[int, RowPatient] = {}
    teams: dict[int, RowTeam] = {}
    rows: dict[int, DeliveryRow] = {}
    for (
        pk,
        episode_id,
        milestone,
        audience,
        channel,
        milestone_date,
        due_at,
        attempts,
        state,
        referral_made_on,
        patient_id,
        given_name,
        email,
        phone,
        timezone,
        preferred_channel,
        sms_consent,
        opted_out,
        language,
        team_id,
        team_email,
    ) in read_columns(list(ids)):
        patient = patients.get(patient_id)
        if patient is None:
            patient = patients[patient_id] = RowPatient(
                id=patient_id,
                given_name=given_name,
                email=email,
                phone=phone,
                timezone=timezone,
                preferred_channel=preferred_channel,
                sms_consent=sms_consent,
                opted_out=opted_out,
                language=language,
            )
        team = teams.get(team_id)
        if team is None:
            team = teams[team_id] = RowTeam(id=team_id, email=team_email)
        rows[pk] = DeliveryRow(
            id=pk,
            episode_id=episode_id,
            milestone=milestone,
            audience=audience,
            channel=channel,
            milestone_date=milestone_date,
            due_at=due_at,
            attempts=attempts,
            episode=RowEpisode(
                id=episode_id,
                state=state,
                referral_made_on=referral_made_on,
                patient=patient,
                care_team=team,
            ),
        )
    return rows


def read_columns(ids: list[int]) -> list[tuple]:
    """The ``COLUMNS`` of the rows, as ``values_list`` gives them.

    The statement is the ORM's, compiled once per process with the ids as one array
    parameter (``id = ANY(%s)``): compiled per batch, with a new 100-parameter statement
    text each time, the ORM's compilation and psycopg's conversion were 1.2 ms of the
    read's 1.6 ms of CPU (values' loading included). The values need no converting: the
    ``values_list`` path applies none to these columns (``test_batch_rows`` compares).
    """
    with connection.cursor() as cursor:
        cursor.execute(_read_sql(), [ids])
        return cursor.fetchall()


@functools.cache
def _read_sql() -> str:
    table = Reminder._meta.db_table  # noqa: SLF001
    # Fixed text: the table's own name, the ids a parameter.
    by_ids = RawSQL(f'"{table}"."id" = ANY(%s)', ([0],), output_field=BooleanField())  # noqa: S611
    sql, _ = Reminder.objects.filter(by_ids).values_list(*COLUMNS).query.sql_with_params()
    return sql


@dataclass(slots=True)
class BegunAttempt:
    """An ``in_flight`` attempt a chunk's begin wrote: what its finish needs of it."""

    pk: int
    attempt: int
