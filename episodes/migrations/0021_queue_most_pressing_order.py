"""Most pressing first for the unassigned, mine and state queues: urgent first, then the deadline.

Two generated columns (careflow.urgency.pressing_order) and the indexes that read each
queue in that order from the cursor replace the id-ordered ones.
"""

import datetime
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("episodes", "0020_queue_sort_orders"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="episode",
            name="episode_team_state",
        ),
        migrations.RemoveIndex(
            model_name="episode",
            name="episode_unassigned",
        ),
        migrations.RemoveIndex(
            model_name="episode",
            name="episode_team_assignee",
        ),
        migrations.AddField(
            model_name="episode",
            name="pressing_deadline",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Coalesce(
                    models.F("next_deadline"), models.Value(datetime.date(9999, 12, 31))
                ),
                output_field=models.DateField(),
            ),
        ),
        migrations.AddField(
            model_name="episode",
            name="pressing_rank",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(then=models.F("urgent_rank"), urgent_since__isnull=False),
                    default=models.Value(4),
                ),
                output_field=models.PositiveSmallIntegerField(),
            ),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                fields=["care_team", "state", "pressing_rank", "pressing_deadline", "id"],
                name="episode_team_state_pressing",
            ),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                condition=models.Q(("assigned_to__isnull", True)),
                fields=["care_team", "pressing_rank", "pressing_deadline", "id"],
                name="episode_unassigned_pressing",
            ),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                fields=["care_team", "assigned_to", "pressing_rank", "pressing_deadline", "id"],
                name="episode_team_assignee_pressing",
            ),
        ),
    ]
