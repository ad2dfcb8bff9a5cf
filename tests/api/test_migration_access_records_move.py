"""AccessRecord and IdempotentRequest move from episodes to api with their tables and rows.

Run through Django's migration executor: back to episodes 0016 (before the move), rows
written through the models as they were there, then every migration forward. The rows are
read through the api models, their content types are the same rows renamed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from api.models import AccessRecord, IdempotentRequest

BEFORE = ("episodes", "0016_unread_reply_queue_and_patient_phone")
MOVED = ("accessrecord", "idempotentrequest")


def migrate_to(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    migrate_to(executor.loader.graph.leaf_nodes())


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """Every migration applied again afterwards: later tests need the whole schema."""
    yield
    migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_the_rows_written_before_the_move_are_read_through_the_api_models() -> None:
    executor = migrate_to([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    user = User.objects.create_user("moved", password="pw-for-tests")
    record = old.get_model("episodes", "AccessRecord").objects.create(
        user_id=user.pk,
        username="moved",
        action="read",
        method="GET",
        path="/api/episodes/7/",
        status_code=200,
        patient_id=3,
        episode_id=7,
    )
    answered = old.get_model("episodes", "IdempotentRequest").objects.create(
        user_id=user.pk,
        key="retry-1",
        fingerprint="f" * 64,
        status_code=201,
        content_type="application/json",
        body=b'{"id": 7}',
    )

    migrate_to_latest()

    moved = AccessRecord.objects.get(pk=record.pk)
    assert (moved.user_id, moved.username, moved.path, moved.patient_id, moved.episode_id) == (
        user.pk,
        "moved",
        "/api/episodes/7/",
        3,
        7,
    )
    replay = IdempotentRequest.objects.get(pk=answered.pk)
    assert (replay.user_id, replay.key, replay.status_code, bytes(replay.body)) == (
        user.pk,
        "retry-1",
        201,
        b'{"id": 7}',
    )
    # The same tables, written on: a new row takes the next id, and the unique key holds.
    later = AccessRecord.objects.create(
        user=user, username="moved", action="write", method="POST", path="/api/x/", status_code=201
    )
    assert later.pk > record.pk
    assert AccessRecord._meta.db_table == "episodes_accessrecord"  # noqa: SLF001
    assert IdempotentRequest._meta.db_table == "episodes_idempotentrequest"  # noqa: SLF001


@pytest.mark.django_db(transaction=True)
def test_the_content_types_are_renamed_and_keep_their_permissions() -> None:
    migrate_to([BEFORE])  # going back renames them to episodes
    before = {model: ContentType.objects.get(app_label="episodes", model=model) for model in MOVED}
    granted = Permission.objects.get(
        content_type=before["accessrecord"], codename="view_accessrecord"
    )
    auditor = User.objects.create_user("auditor", password="pw-for-tests")
    auditor.user_permissions.add(granted)
    # The moved models' types are episodes' again (api's later models keep theirs).
    assert not ContentType.objects.filter(app_label="api", model__in=MOVED).exists()

    migrate_to_latest()

    for model, content_type in before.items():
        assert ContentType.objects.get(app_label="api", model=model).pk == content_type.pk
    assert not ContentType.objects.filter(app_label="episodes", model__in=MOVED).exists()
    assert ContentType.objects.get_for_model(AccessRecord).pk == before["accessrecord"].pk
    auditor = User.objects.get(pk=auditor.pk)  # no cached permissions
    assert auditor.has_perm("api.view_accessrecord")


@pytest.mark.django_db(transaction=True)
def test_a_content_type_made_for_api_already_leaves_no_stale_episodes_one() -> None:
    migrate_to([BEFORE])
    stale = ContentType.objects.get(app_label="episodes", model="accessrecord")
    made = ContentType.objects.create(app_label="api", model="accessrecord")

    migrate_to_latest()

    assert not ContentType.objects.filter(pk=stale.pk).exists()
    assert not Permission.objects.filter(content_type_id=stale.pk).exists()
    assert ContentType.objects.get(app_label="api", model="accessrecord").pk == made.pk
