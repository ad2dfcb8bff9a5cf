"""AccessRecord and IdempotentRequest, moved from episodes: the same tables and rows.

State only for the models (episodes/migrations/0017_access_records_move_to_api.py gives
them up): no table is created, renamed or copied, so ``db_table`` keeps the names they were
created with. Their content types move too, renamed from ``episodes`` to ``api`` with their
primary keys: the permissions on them (and the groups and users granted those), and the
admin's log entries that name them, stay as they were. Where ``post_migrate`` already made
the ``api`` content type, the stale ``episodes`` one and its permissions are deleted instead.
Going back renames them back.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("accessrecord", "idempotentrequest")


def _move_content_types(apps, schema_editor, *, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    for model in MODELS:
        stale = content_type.objects.using(db).filter(app_label=old, model=model).first()
        if stale is None:
            continue
        if content_type.objects.using(db).filter(app_label=new, model=model).exists():
            permission.objects.using(db).filter(content_type=stale).delete()
            stale.delete()
        else:
            stale.app_label = new
            stale.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, old="episodes", new="api")


def backwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, old="api", new="episodes")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("episodes", "0017_access_records_move_to_api"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        # An admin log entry may name a stale content type: with admin's models in the
        # state, deleting it sets their content_type to null as the live models would.
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("username", models.CharField(blank=True, max_length=150)),
                        ("at", models.DateTimeField(auto_now_add=True)),
                        ("action", models.CharField(max_length=5)),
                        ("method", models.CharField(max_length=7)),
                        ("path", models.CharField(max_length=300)),
                        ("status_code", models.PositiveSmallIntegerField()),
                        ("patient_id", models.BigIntegerField(blank=True, null=True)),
                        ("episode_id", models.BigIntegerField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "episodes_accessrecord",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["patient_id", "at"], name="access_by_patient"),
                            models.Index(fields=["user", "at"], name="access_by_user"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="IdempotentRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("content_type", models.CharField(blank=True, max_length=100)),
                        ("body", models.BinaryField(blank=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "episodes_idempotentrequest",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="one_request_per_user_key"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
