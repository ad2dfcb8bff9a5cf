"""Fixtures of the fault tests (`make chaos`): a private Redis, the fake provider, a rig.

Every test here is marked ``chaos``; `make test` deselects them (pyproject addopts) and
`make chaos` runs them on PostgreSQL. docs/RELIABILITY.md describes each fault.
"""

from __future__ import annotations

import shutil
import uuid

import pytest
from django.db import connection

from tests.chaos.harness import CHAOS_DIR, PrivateRedis, Rig
from tests.processes import database_url_for_worker


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
    setup = Rig(
        broker=private_redis,
        provider=fake_twilio,
        database_url=database_url_for_worker(connection.settings_dict),
        log_dir=log_dir,
        mail_dir=tmp_path / "mail",
    )
    try:
        yield setup
    finally:
        setup.stop_all()
