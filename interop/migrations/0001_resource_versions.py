from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ResourceVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("resource_type", models.CharField(max_length=20)),
                ("resource_id", models.BigIntegerField()),
                ("number", models.PositiveIntegerField()),
                ("digest", models.CharField(max_length=16)),
                ("recorded_at", models.DateTimeField()),
                ("resource", models.JSONField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("resource_type", "resource_id", "number"),
                        name="resource_version_unique",
                    )
                ],
            },
        ),
    ]
