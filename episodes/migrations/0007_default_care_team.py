"""A fresh install has one care team, so the first user can enrol a patient at once (API.md)."""

from __future__ import annotations

from django.db import migrations

DEFAULT_TEAM_NAME = "Care team"


def create_default_team(apps, _schema_editor) -> None:  # noqa: ANN001 - Django's signature
    care_team = apps.get_model("episodes", "CareTeam")
    if not care_team.objects.exists():
        care_team.objects.create(name=DEFAULT_TEAM_NAME)


class Migration(migrations.Migration):
    dependencies = [("episodes", "0006_pathway_over_time")]

    operations = [migrations.RunPython(create_default_team, migrations.RunPython.noop)]
