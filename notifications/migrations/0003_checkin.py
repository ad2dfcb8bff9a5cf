"""CheckIn, moved from episodes: the same table, ``episodes_checkin``.

State only (episodes/migrations/0008_checkin_moves_to_notifications.py gives it up): no
table is created, renamed or copied.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("episodes", "0009_checkin_moves_to_notifications"),
        ("notifications", "0002_delivery_status_inbound_sms_unusable_email"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CheckIn",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "overall",
                            models.CharField(
                                choices=[
                                    ("better", "better"),
                                    ("same", "same"),
                                    ("worse", "worse"),
                                    ("resolved", "resolved"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("disabling_pain", models.BooleanField()),
                        ("symptoms", models.JSONField(blank=True, default=list)),
                        ("submitted_at", models.DateTimeField(auto_now_add=True)),
                        ("corrected_at", models.DateTimeField(blank=True, null=True)),
                        ("corrections", models.PositiveSmallIntegerField(default=0)),
                        (
                            "episode",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checkins",
                                to="episodes.episode",
                            ),
                        ),
                        (
                            "reminder",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checkin",
                                to="notifications.reminder",
                            ),
                        ),
                    ],
                    options={"db_table": "episodes_checkin", "ordering": ["submitted_at", "id"]},
                ),
            ],
            database_operations=[],
        ),
    ]
