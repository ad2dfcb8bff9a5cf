from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_demo_logins_and_prints_them():
    output = _seed()

    for username in ("coordinator", "clinician"):
        assert authenticate(username=username, password="careflow-demo") is not None
        assert f"{username} / careflow-demo" in output


def test_seed_demo_is_idempotent():
    _seed()
    _seed()

    assert get_user_model().objects.filter(username__in=["coordinator", "clinician"]).count() == 2


def test_seed_demo_spreads_episodes_over_the_pathway_once():
    from episodes.models import Episode  # noqa: PLC0415

    _seed()
    states = sorted(Episode.objects.values_list("state", flat=True))
    assert {"conservative_care", "imaging_eligible", "esi", "urgent_escalation"} <= set(states)
    assert {"surgical_review", "resolved"} <= set(states)
    _seed()
    assert sorted(Episode.objects.values_list("state", flat=True)) == states
