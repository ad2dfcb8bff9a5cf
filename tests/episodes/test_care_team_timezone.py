"""A care team has a time zone: the install's TIME_ZONE until an administrator chooses one.

episodes 0019 gives the teams already there the install's TIME_ZONE (run through Django's
migration executor: back to 0018, a team written as it was there, then 0019 forward); a
new team gets it too; the admin chooses another from the IANA names, never free text.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.urls import reverse

from episodes.models import CareTeam, iana_zones

BEFORE = ("episodes", "0018_patient_search")
AFTER = ("episodes", "0019_care_team_timezone")


def migrate_to(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor


@pytest.fixture
def _latest_schema_after():
    """Every migration applied again afterwards: later tests need the whole schema."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    migrate_to(executor.loader.graph.leaf_nodes())


@pytest.mark.usefixtures("_latest_schema_after")
@pytest.mark.django_db(transaction=True)
@override_settings(TIME_ZONE="America/Chicago")
def test_a_team_there_before_gets_the_install_time_zone() -> None:
    old = migrate_to([BEFORE]).loader.project_state([BEFORE]).apps
    old.get_model("episodes", "CareTeam").objects.create(name="Before the zone")
    new = migrate_to([AFTER]).loader.project_state([AFTER]).apps
    team = new.get_model("episodes", "CareTeam").objects.get(name="Before the zone")
    assert team.timezone == "America/Chicago"


@pytest.mark.django_db
def test_a_new_team_starts_with_the_install_time_zone() -> None:
    with override_settings(TIME_ZONE="Europe/Paris"):
        team = CareTeam.objects.create(name="Paris")
    assert team.timezone == "Europe/Paris"
    with override_settings(TIME_ZONE="UTC"):
        other = CareTeam.objects.create(name="Greenwich")
    assert other.timezone == "UTC"


@pytest.mark.django_db
def test_the_admin_chooses_a_team_zone_from_the_list(client, superuser, team) -> None:
    client.force_login(superuser)
    url = reverse("admin:episodes_careteam_change", args=[team.pk])
    page = client.get(url).content.decode()
    assert '<select name="timezone"' in page
    assert page.count("<option value=") >= len(iana_zones())
    form = {
        "name": team.name,
        "email": team.email,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    saved = client.post(url, {**form, "timezone": "Asia/Tokyo"})
    assert saved.status_code == 302
    team.refresh_from_db()
    assert team.timezone == "Asia/Tokyo"
    refused = client.post(url, {**form, "timezone": "Mars/Base"})
    assert refused.status_code == 200
    team.refresh_from_db()
    assert team.timezone == "Asia/Tokyo"
