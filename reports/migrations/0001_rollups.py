"""The adherence report's monthly rollups, and the triggers that say which are out of date.

Every write (INSERT, UPDATE, DELETE; COPY too) to an episode, to a row the report reads
about one (red flags, imaging, referrals, care plan, ESI and surgery plans, the transition
log, reminders, check-ins) or to a patient's time zone inserts a ``reports_rollupchange``
row naming the episode's care team and enrolment month, in the writer's own transaction.
Statement-level triggers with transition tables: one insert per statement, whatever the
number of rows. No write path can skip them (the services, the admin, a bulk update, a
data migration), so no write can leave a rollup in use that does not hold it (decision
0020). The months enrolled before this migration are marked as changed, so beat's first
refresh rolls them all up.
"""

# Table names come from the models' own _meta, never from data; RunPython's own signature.
# ruff: noqa: S608, ANN001

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


CHANGE = "reports_rollupchange"
MONTH = "date_trunc('month', {}.enrolled_on::timestamp)::date"
# The tables whose rows carry an episode_id the report reads, by (app, model).
EPISODE_ROWS = (
    ("episodes", "RedFlag"),
    ("episodes", "ImagingStudy"),
    ("episodes", "Referral"),
    ("episodes", "CarePlanItem"),
    ("episodes", "EsiPlan"),
    ("episodes", "SurgeryPlan"),
    ("episodes", "TransitionLog"),
    ("notifications", "Reminder"),
    ("notifications", "CheckIn"),
)
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _function(name: str, rows_sql: str) -> str:
    """A trigger function inserting one change row per (team, month) the statement touched.

    ``rows_sql`` selects (care_team_id, month) from a transition table named ``{rows}``.
    PostgreSQL gives an INSERT trigger only the new rows and a DELETE trigger only the old:
    each branch names only the table its event has.
    """
    new, old = rows_sql.format(rows="new_rows"), rows_sql.format(rows="old_rows")
    return f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO {CHANGE} (care_team_id, month) SELECT DISTINCT * FROM ({new}) c;
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO {CHANGE} (care_team_id, month)
                SELECT * FROM ({new}) n UNION SELECT * FROM ({old}) o;
            ELSE
                INSERT INTO {CHANGE} (care_team_id, month) SELECT DISTINCT * FROM ({old}) c;
            END IF;
            RETURN NULL;
        END
        $body$
    """


def _triggers(table: str, function: str, events: tuple[str, ...] = EVENTS) -> list[str]:
    """One statement-level trigger per event: a trigger with transition tables takes one."""
    out = []
    for event in events:
        tables = {
            "INSERT": "NEW TABLE AS new_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
        }[event]
        out.append(
            f'CREATE TRIGGER "{table}_rollup_{event.lower()}" AFTER {event} ON "{table}"'
            f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return out


def create_triggers(apps, schema_editor) -> None:
    episode = apps.get_model("episodes", "Episode")._meta.db_table
    patient = apps.get_model("episodes", "Patient")._meta.db_table
    statements = [
        _function(
            "reports_episode_written",
            f"SELECT r.care_team_id, {MONTH.format('r')} FROM {{rows}} r",
        ),
        _function(
            "reports_episode_row_written",
            f"SELECT e.care_team_id, {MONTH.format('e')} FROM {{rows}} r"
            f' JOIN "{episode}" e ON e.id = r.episode_id',
        ),
        # A patient's time zone decides their local dates (a flag ruled out, education
        # recorded, today): a change of it changes every one of their episodes' months.
        f"""
        CREATE FUNCTION reports_patient_zone_written() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO {CHANGE} (care_team_id, month)
            SELECT DISTINCT e.care_team_id, {MONTH.format("e")}
            FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN "{episode}" e ON e.patient_id = n.id
            WHERE n.timezone IS DISTINCT FROM o.timezone;
            RETURN NULL;
        END
        $body$
        """,
        *_triggers(episode, "reports_episode_written"),
        *_triggers(patient, "reports_patient_zone_written", ("UPDATE",)),
    ]
    for app, model in EPISODE_ROWS:
        statements += _triggers(
            apps.get_model(app, model)._meta.db_table, "reports_episode_row_written"
        )
    statements.append(
        f"INSERT INTO {CHANGE} (care_team_id, month)"
        f' SELECT DISTINCT e.care_team_id, {MONTH.format("e")} FROM "{episode}" e'
    )
    for sql in statements:
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor) -> None:
    tables = [apps.get_model("episodes", "Episode")._meta.db_table] + [
        apps.get_model(app, model)._meta.db_table for app, model in EPISODE_ROWS
    ]
    for table in tables:
        for event in EVENTS:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_rollup_{event.lower()}" ON "{table}"')
    patient = apps.get_model("episodes", "Patient")._meta.db_table
    schema_editor.execute(f'DROP TRIGGER IF EXISTS "{patient}_rollup_update" ON "{patient}"')
    for function in (
        "reports_episode_written",
        "reports_episode_row_written",
        "reports_patient_zone_written",
    ):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("episodes", "0022_patient_identifier_gender_condition_code"),
        ("notifications", "0008_reminder_alert"),
    ]

    operations = [
        migrations.CreateModel(
            name='RollupChange',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('care_team_id', models.BigIntegerField()),
                ('month', models.DateField()),
            ],
            options={
                'indexes': [models.Index(fields=['care_team_id', 'month'], name='rollup_change_team_month')],
            },
        ),
        migrations.CreateModel(
            name='Rollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text='the first day of the enrolment month')),
                ('tally', models.JSONField()),
                ('episodes', models.PositiveIntegerField()),
                ('computed_at', models.DateTimeField()),
                ('care_team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='episodes.careteam')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('care_team', 'month'), name='rollup_team_month')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
