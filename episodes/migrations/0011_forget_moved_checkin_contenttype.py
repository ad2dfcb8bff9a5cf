"""Forget the ``episodes.checkin`` content type left behind by the CheckIn move.

The CheckIn model moved to notifications keeping its table (0009 here, notifications'
0003). Content types do not move with a state-only migration: ``post_migrate`` made a
new ``notifications.checkin`` row, and the old ``episodes.checkin`` one and its four
permissions stayed, naming a model that no longer exists (the admin's permission lists
showed them). They are deleted when present. Going
back is a no-op: a stale row is not worth recreating.
"""

from django.db import migrations


def forget_checkin_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    stale = content_type.objects.using(db).filter(app_label="episodes", model="checkin")
    permission.objects.using(db).filter(content_type__in=stale).delete()
    stale.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("episodes", "0010_episode_team_queue_order"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        # An admin log entry may name the content type: with admin's models in the state,
        # deleting it sets their content_type to null as the live models would.
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(forget_checkin_content_type, migrations.RunPython.noop),
    ]
