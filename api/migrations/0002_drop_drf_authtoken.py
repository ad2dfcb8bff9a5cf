"""Drop DRF's clear-text ``authtoken_token`` table: API tokens are knox's, hashed.

The ``rest_framework.authtoken`` app left INSTALLED_APPS with this migration; its rows were
old credentials stored as they are sent. Its content types (and their permissions) go too.
"""

from django.db import migrations


def forget_content_types(apps, schema_editor):  # noqa: ARG001 - Django's signature
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_access_record_and_idempotent_request"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
        migrations.RunPython(forget_content_types, migrations.RunPython.noop),
    ]
