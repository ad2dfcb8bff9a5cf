"""episodes 0011 deletes the stale ``episodes.checkin`` content type and its permissions.

Run through Django's migration executor: back to 0010, the stale rows put in place as the
CheckIn move left them, then 0011 forward.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import CheckIn

BEFORE = ("episodes", "0010_episode_team_queue_order")
AFTER = ("episodes", "0011_forget_moved_checkin_contenttype")


def migrate_to(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def _every_migration_applied_after():
    """Every migration applied again after each test, as the tests after these need.

    Going back to episodes 0010 also unapplies every migration that depends on a later one
    of episodes (notifications 0005 on); going forward to 0011 applies none of them.
    """
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_the_stale_checkin_content_type_and_its_permissions_are_deleted() -> None:
    migrate_to(BEFORE)  # going back is the no-op
    stale = ContentType.objects.create(app_label="episodes", model="checkin")
    for action in ("add", "change", "delete", "view"):
        Permission.objects.create(
            content_type=stale, codename=f"{action}_checkin", name=f"Can {action} check in"
        )
    moved = ContentType.objects.get_for_model(CheckIn)
    moved_permissions = Permission.objects.filter(content_type=moved).count()
    assert Permission.objects.filter(content_type=stale).count() == 4

    migrate_to(AFTER)

    assert not ContentType.objects.filter(app_label="episodes", model="checkin").exists()
    assert not Permission.objects.filter(content_type_id=stale.pk).exists()
    # The model's own content type, in notifications, and its permissions are kept.
    assert ContentType.objects.filter(pk=moved.pk, app_label="notifications").exists()
    assert Permission.objects.filter(content_type=moved).count() == moved_permissions


@pytest.mark.django_db(transaction=True)
def test_without_the_stale_row_the_migration_changes_nothing() -> None:
    migrate_to(BEFORE)
    content_types = ContentType.objects.count()
    permissions = Permission.objects.count()

    migrate_to(AFTER)

    assert ContentType.objects.count() == content_types
    assert Permission.objects.count() == permissions
