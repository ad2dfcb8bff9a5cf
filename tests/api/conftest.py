"""API test fixtures: an authenticated client per actor (tests/clients.py)."""

from __future__ import annotations

import pytest

from tests.clients import client_for


@pytest.fixture
def as_user():
    return client_for
