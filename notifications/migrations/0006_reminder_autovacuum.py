"""The reminder table is a queue: vacuumed after a morning's churn, not a week's.

Each reminder sent leaves dead row versions (claimed, begun, sent) and dead entries in
the partial indexes the dispatcher reads, at the front of ``reminder_due_scheduled``,
where every claim scans past them until a vacuum. With PostgreSQL's default
``autovacuum_vacuum_scale_factor`` (0.2), a table of 6M reminders waits for 1.2M dead
rows: about eight mornings of 50 000 reminders at three versions each. One per cent
(about 60 000 at 6M) is about a morning's (docs/decisions/0007-reminder-row-is-the-schedule.md).
"""

from django.db import migrations

SETTINGS = {"autovacuum_vacuum_scale_factor": "0.01", "autovacuum_vacuum_threshold": "1000"}


def _table(apps, schema_editor):
    model = apps.get_model("notifications", "Reminder")
    return schema_editor.quote_name(model._meta.db_table)  # noqa: SLF001


def forwards(apps, schema_editor):
    options = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
    schema_editor.execute(f"ALTER TABLE {_table(apps, schema_editor)} SET ({options})")


def backwards(apps, schema_editor):
    names = ", ".join(SETTINGS)
    schema_editor.execute(f"ALTER TABLE {_table(apps, schema_editor)} RESET ({names})")


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_fk_indexes_covered_by_unique")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
