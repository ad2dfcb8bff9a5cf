from __future__ import annotations

import pytest

from tests.ops.helpers import METRICS_TOKEN


@pytest.fixture
def metrics_token(settings):
    settings.CAREFLOW_METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN
