"""AccessRecord and IdempotentRequest move to the api app: the models only, tables and rows stay.

State only: api/migrations/0001_access_record_and_idempotent_request.py takes both models
over with ``db_table = "episodes_accessrecord"`` and ``"episodes_idempotentrequest"``;
nothing is run against the database.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("episodes", "0016_unread_reply_queue_and_patient_phone")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AccessRecord"),
                migrations.DeleteModel(name="IdempotentRequest"),
            ],
            database_operations=[],
        ),
    ]
