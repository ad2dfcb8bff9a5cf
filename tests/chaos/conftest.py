"""Fixtures of the fault tests (`make chaos`): a private Redis, the fake provider, a rig.

Every test here is marked ``chaos``; `make test` deselects them (pyproject addopts) and
`make chaos` runs them on PostgreSQL. docs/RELIABILITY.md describes each fault.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import nullcontext

import pytest
from django.db import connection

from tests.chaos.harness import CHAOS_DIR, PrivateRedis, Rig
from tests.pooler.pgbouncer import in_front_of
from tests.processes import database_url_for_worker

# `make chaos` runs the dispatch faults a second time with this set: every process of the rig
# then reaches the database through PgBouncer in transaction mode, prepared statements off
# (README, "Run it at scale").
THROUGH_POOLER = os.environ.get("CAREFLOW_TEST_POOLER", "") == "1"


@pytest.fixture
def private_redis():
    """A redis-server of the test's own on a spare port (the shared one is never touched)."""
    broker = PrivateRedis(CHAOS_DIR / f"redis-{uuid.uuid4().hex[:8]}")
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.directory, ignore_errors=True)


@pytest.fixture
def rig(transactional_db, private_redis, fake_twilio, tmp_path):
    """Worker, beat and dispatcher processes on the test database; all stopped afterwards.

    Requested after ``transactional_db``, so its processes stop before the database is
    flushed. Their logs stay in var/chaos/logs/<test>/ for a failed run's post-mortem.
    """
    log_dir = CHAOS_DIR / "logs" / uuid.uuid4().hex[:8]
    log_dir.mkdir(parents=True, exist_ok=True)
    pooler = in_front_of(connection.settings_dict, pool_size=4) if THROUGH_POOLER else None
    with pooler or nullcontext():
        setup = Rig(
            broker=private_redis,
            provider=fake_twilio,
            database_url=(
                pooler.url(connection.settings_dict["NAME"])
                if pooler
                else database_url_for_worker(connection.settings_dict)
            ),
            log_dir=log_dir,
            mail_dir=tmp_path / "mail",
            through_pooler=pooler is not None,
        )
        try:
            yield setup
        finally:
            setup.stop_all()
