"""A care team's time zone: the one a patient enrolled in the workspace starts with.

AddField fills the rows already there with the default, evaluated once: every existing team
gets the install's TIME_ZONE, the zone their patients were given until now.
"""

import episodes.models.people
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('episodes', '0018_patient_search'),
    ]

    operations = [
        migrations.AddField(
            model_name='careteam',
            name='timezone',
            field=models.CharField(default=episodes.models.people.install_timezone, help_text='Where the team works: the time zone a patient enrolled in the workspace gets unless the coordinator chooses another (an IANA name, e.g. America/New_York).', max_length=64, validators=[episodes.models.people.validate_timezone]),
        ),
    ]
