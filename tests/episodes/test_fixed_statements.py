"""The fixed statements of every write read what the ORM's querysets read (infra/db.py).

``lock``, ``related_rows`` / ``prefetch_rows`` and ``episode_id_for`` replace ORM querysets
on the write path with statements written once from the models: the same rows, the same
values (JSON decoded by its field), the same order, the same locks, the same refusals.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django_fsm import ConcurrentTransition

from episodes.models import CareTeamMembership, Episode, RedFlag, Referral
from episodes.selectors import episode_id_for
from episodes.selectors.prefetch import prefetch_rows, related_rows, rows_of
from episodes.selectors.timeline import EPISODE
from episodes.services.checks import lock
from episodes.services.statements import insert, update_changed
from notifications.models import Reminder
from tests.clock import at_day
from tests.factories import (
    CareTeamFactory,
    ImagingStudyFactory,
    MembershipFactory,
    RedFlagFactory,
    UserFactory,
    new_episode,
)

# Committed rows: the lock tests take the same rows from a second connection.
pytestmark = pytest.mark.django_db(transaction=True)


def values(instance) -> dict:
    fields = instance._meta.concrete_fields  # noqa: SLF001 - Django's public _meta API
    return {f.attname: getattr(instance, f.attname) for f in fields}


@pytest.fixture
def full_episode(patient, coordinator):
    """An episode with facts (JSON), two red flags, a study and its reminders."""
    episode = new_episode(patient, coordinator, radicular_pain=True, disabling_pain=True)
    with at_day(3):
        RedFlagFactory(episode=episode, at=None, sign="fever", by=coordinator)
        RedFlagFactory(episode=episode, at=None, sign="iv_drug_use", by=coordinator)
    with at_day(50):
        ImagingStudyFactory(episode=episode, at=None, by=coordinator)
    return Episode.objects.get(pk=episode.pk)


def test_lock_reads_the_episode_and_its_patient_as_the_orm_does(full_episode):
    with transaction.atomic():
        ours = lock(full_episode.pk)
        theirs = (
            Episode.objects.select_for_update().select_related("patient").get(pk=full_episode.pk)
        )
    assert values(ours) == values(theirs)
    assert isinstance(ours.facts, dict)  # JSON decoded by its field
    assert ours.facts
    assert values(ours.patient) == values(theirs.patient)
    with CaptureQueriesContext(connection) as ctx:
        assert ours.patient.timezone  # the patient came with the episode
    assert not ctx.captured_queries
    assert not ours._state.adding  # noqa: SLF001 - an instance from the database: save() updates
    with pytest.raises(Episode.DoesNotExist):
        lock(full_episode.pk + 1000)


def test_lock_holds_the_row_until_the_transaction_ends(full_episode):
    """A second transaction's lock of the same episode waits for the first."""
    order: list[str] = []
    locked = threading.Event()

    def second() -> None:
        locked.wait(10)
        with transaction.atomic():
            lock(full_episode.pk)
            order.append("second")
        connections.close_all()

    thread = threading.Thread(target=second)
    with transaction.atomic():
        lock(full_episode.pk)
        thread.start()
        locked.set()
        thread.join(0.5)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]


def test_lock_reads_the_assignee_without_locking_their_row(full_episode, coordinator):
    Episode.objects.filter(pk=full_episode.pk).update(assigned_to=coordinator)
    with transaction.atomic():
        episode = lock(full_episode.pk)
        with CaptureQueriesContext(connection) as ctx:
            assert episode.assigned_to == coordinator
        assert not ctx.captured_queries  # read with the episode
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                # The user's row is free (NOWAIT would refuse at once), the episode's is not.
                cursor.execute(
                    'SELECT 1 FROM "auth_user" WHERE id = %s FOR UPDATE NOWAIT', [coordinator.pk]
                )
                with pytest.raises(Exception, match="could not obtain lock"):
                    cursor.execute(
                        'SELECT 1 FROM "episodes_episode" WHERE id = %s FOR UPDATE NOWAIT',
                        [full_episode.pk],
                    )
        finally:
            other.close()
    Episode.objects.filter(pk=full_episode.pk).update(assigned_to=None)
    with transaction.atomic():
        assert lock(full_episode.pk).assigned_to is None


@pytest.mark.parametrize("prepare", [True, False], ids=["prepared", "not-prepared"])
def test_a_write_updates_only_the_columns_it_changed(full_episode, settings, prepare):
    """The write's UPDATE sends the changed columns and ``updated_at``, with or without a pooler."""
    settings.CAREFLOW_DB_PREPARED_STATEMENTS = prepare
    with transaction.atomic():
        episode = lock(full_episode.pk)
        episode.facts["education"] = True  # a JSON value changed in place counts too
        episode.next_deadline_rule = "X-1"
        assert sorted(episode.changed_fields()) == ["facts", "next_deadline_rule", "updated_at"]
        with CaptureQueriesContext(connection) as ctx:
            update_changed(episode)
        (update,) = [q["sql"] for q in ctx.captured_queries]
        assert update.startswith('UPDATE "episodes_episode" SET')
        assert '"symptom_onset"' not in update
        assert '"next_deadline_rule"' in update
        assert episode.changed_fields() == ["updated_at"]  # saved: nothing left to write
        update_changed(episode)  # outside a query log: the prepared statement, if on
    fresh = Episode.objects.get(pk=full_episode.pk)
    assert fresh.facts["education"] is True
    assert fresh.next_deadline_rule == "X-1"
    assert fresh.updated_at == episode.updated_at > full_episode.updated_at
    changed = ("facts", "next_deadline_rule", "updated_at")
    assert values(fresh) == {**values(full_episode), **{k: getattr(fresh, k) for k in changed}}
    unlocked = Episode.objects.get(pk=full_episode.pk)
    assert unlocked.changed_fields() is None  # not read by lock: saved whole


def test_the_update_refuses_a_state_other_than_the_one_read(full_episode):
    """As django-fsm's ConcurrentTransitionMixin: nothing is written, the write fails."""
    with transaction.atomic():
        episode = lock(full_episode.pk)
        episode._columns_as_read["state"] = "resolved"  # noqa: SLF001 - as if read in another
        episode.next_deadline_rule = "X-1"
        with pytest.raises(ConcurrentTransition):
            update_changed(episode)
        transaction.set_rollback(True)
    assert Episode.objects.get(pk=full_episode.pk).next_deadline_rule == (
        full_episode.next_deadline_rule
    )


def test_inserted_rows_are_the_orm_rows(full_episode):
    with transaction.atomic():
        ours = insert(
            Referral(
                episode=full_episode,
                urgency="urgent",
                reason="r",
                made_on=full_episode.enrolled_on,
                due_date_met=True,
            )
        )
        theirs = Referral.objects.create(
            episode=full_episode,
            urgency="urgent",
            reason="r",
            made_on=full_episode.enrolled_on,
            due_date_met=True,
        )
    assert ours.pk is not None
    assert not ours._state.adding  # noqa: SLF001 - saved: a second save() updates
    columns = Referral._meta.concrete_fields  # noqa: SLF001 - Django's public _meta API
    fields = [f.attname for f in columns if f.attname not in ("id", "created_at")]
    stored = Referral.objects.get(pk=ours.pk)
    assert {f: getattr(stored, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert stored.created_at == ours.created_at
    with pytest.raises(ValueError, match="new Referral only"):
        insert(stored)


def test_related_rows_are_the_orm_rows_in_the_orm_order(full_episode):
    for name in ("red_flags", "imaging", "care_plan", "reminders"):
        manager = getattr(full_episode, name)
        ordering = manager.model._meta.ordering or ["pk"]  # noqa: SLF001 - public _meta
        theirs = list(manager.all().order_by(*ordering))
        ours = related_rows(full_episode, name)
        assert [values(r) for r in ours] == [values(r) for r in theirs], name
        assert all(r.episode is full_episode for r in ours)
    assert len(related_rows(full_episode, "red_flags")) == 2


def test_prefetched_rows_are_read_from_the_cache(full_episode):
    episode = Episode.objects.get(pk=full_episode.pk)
    prefetch_rows(episode, "red_flags", "imaging")
    with CaptureQueriesContext(connection) as ctx:
        flags = list(episode.red_flags.all())
        studies = list(episode.imaging.all())
    assert not ctx.captured_queries
    other = Episode.objects.get(pk=full_episode.pk)
    prefetch_related_objects([other], "red_flags", "imaging")
    assert [values(f) for f in flags] == [values(f) for f in other.red_flags.all()]
    assert [values(s) for s in studies] == [values(s) for s in other.imaging.all()]


def test_related_rows_for_update_lock_them(full_episode):
    ids = set(Reminder.objects.filter(episode=full_episode).values_list("pk", flat=True))
    assert ids
    with transaction.atomic():
        assert {r.pk for r in related_rows(full_episode, "reminders", for_update=True)} == ids
        # Another connection cannot take them now (NOWAIT refuses at once).
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor, pytest.raises(Exception, match="could not obtain lock"):
                cursor.execute(
                    'SELECT 1 FROM "notifications_reminder" WHERE episode_id = %s'
                    " FOR UPDATE NOWAIT",
                    [full_episode.pk],
                )
        finally:
            other.close()


def test_episode_id_for_refuses_other_teams_and_no_team(
    full_episode, coordinator, other_coordinator, superuser, django_user_model
):
    assert episode_id_for(coordinator, full_episode.pk) == full_episode.pk
    assert episode_id_for(superuser, full_episode.pk) == full_episode.pk
    with pytest.raises(Http404):
        episode_id_for(other_coordinator, full_episode.pk)
    with pytest.raises(Http404):
        episode_id_for(django_user_model.objects.create_user("nobody-here"), full_episode.pk)
    with pytest.raises(Http404):
        episode_id_for(coordinator, full_episode.pk + 1000)


def test_rows_of_reads_what_select_related_reads(full_episode, coordinator):
    """Related rows read along, a NULL foreign key read as None, in the asked order."""
    first = full_episode.red_flags.order_by("raised_at", "id").first()
    RedFlag.objects.filter(pk=first.pk).update(
        ruled_out_by=coordinator, ruled_out_at=first.raised_at
    )
    ours = rows_of(
        RedFlag,
        where=EPISODE,
        args=[full_episode.pk],
        related=("raised_by", "ruled_out_by"),
        order=("raised_at", "id"),
    )
    theirs = list(
        RedFlag.objects.filter(episode_id=full_episode.pk)
        .select_related("raised_by", "ruled_out_by")
        .order_by("raised_at", "id")
    )
    assert [values(r) for r in ours] == [values(r) for r in theirs]
    with CaptureQueriesContext(connection) as ctx:
        assert [r.ruled_out_by and values(r.ruled_out_by) for r in ours] == [
            r.ruled_out_by and values(r.ruled_out_by) for r in theirs
        ]
        assert [values(r.raised_by) for r in ours] == [values(r.raised_by) for r in theirs]
    assert not ctx.captured_queries
    assert ours[0].ruled_out_by == coordinator
    assert ours[1].ruled_out_by is None


def test_rows_of_orders_by_a_related_rows_fields_as_the_orm_does():
    """``relation__field`` orders by the joined row's column, descending with ``-``."""
    team = CareTeamFactory()
    for first, last, username in (
        ("Zoe", "Adams", "z1"),
        ("Amir", "Young", "a2"),
        ("Amir", "Berg", "a3"),
        ("", "", "anon"),
    ):
        MembershipFactory(
            team=team, user=UserFactory(username=username, first_name=first, last_name=last)
        )
    MembershipFactory(user=UserFactory(username="elsewhere"))  # another team's member
    for order in (
        ("user__first_name", "user__last_name", "user__username"),
        ("-user__last_name", "id"),
    ):
        ours = rows_of(
            CareTeamMembership,
            where='t."team_id" = %s',
            args=[team.pk],
            related=("user",),
            order=order,
        )
        theirs = CareTeamMembership.objects.filter(team=team).order_by(*order)
        assert [m.pk for m in ours] == [m.pk for m in theirs]
        assert [m.user.username for m in ours] == [m.user.username for m in theirs]
    assert [m.user.username for m in ours][:2] == ["a2", "a3"]  # Young, then Berg
