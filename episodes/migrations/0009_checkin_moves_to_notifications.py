"""CheckIn moves to notifications: the model only, its table and rows stay.

State only: notifications/migrations/0003_checkin.py takes the model over with
``db_table = "episodes_checkin"``; nothing is run against the database.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("episodes", "0008_episode_team_enrolled")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CheckIn")],
            database_operations=[],
        ),
    ]
