"""Reminder.alert: whether a reminder is an alert to the care team, from its milestone.

Computed by the database (a stored generated column), so every write sets it, whichever
code writes the row; the partial index ``reminder_alert_due`` holds the alerts due, which
the dispatcher claims before any routine reminder (docs/REMINDERS.md). Adding the column
rewrites the table once.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0007_patient_message_read_and_unmatched"),
    ]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="alert",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.ExpressionWrapper(
                    models.Q(("milestone__startswith", "red_flag:")),
                    output_field=models.BooleanField(),
                ),
                output_field=models.BooleanField(),
            ),
        ),
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(
                condition=models.Q(("alert", True), ("status", "scheduled")),
                fields=["next_attempt_at", "id"],
                name="reminder_alert_due",
            ),
        ),
    ]
