"""The workspace's other queue orders: a team's episodes by onset and by care start.

Each queue page sorted by days since onset or days of conservative care is a keyset range
of one of these, from the cursor (episodes.selectors.queue_rows.SORTS).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("episodes", "0019_care_team_timezone"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                fields=["care_team", "symptom_onset", "id"], name="episode_team_onset"
            ),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                fields=["care_team", "conservative_care_start", "id"],
                name="episode_team_care_start",
            ),
        ),
    ]
