"""Subscription fixtures: a local rest-hook endpoint, and 127.0.0.1 allowed as one."""

from __future__ import annotations

import pytest

from tests.interop.subscriptions.helpers import Receiver


@pytest.fixture
def receiver(settings):
    settings.CAREFLOW_SUBSCRIPTION_ALLOWED_HOSTS = ["127.0.0.1"]
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def no_delivery(monkeypatch):
    """Deliveries asked for on commit are kept here instead of published to a worker."""
    from interop.subscriptions import outbox  # noqa: PLC0415 - needs the app registry

    asked: list[int] = []
    monkeypatch.setattr(outbox, "_delivery_requested", [asked.append])
    return asked
