"""Deleting a user never erases who did what; the admin deactivates."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError
from django.urls import reverse
from knox.models import AuthToken

from api.models import AccessRecord
from episodes import services
from episodes.models import RedFlag
from tests.clients import client_for
from tests.factories import new_episode

pytestmark = pytest.mark.django_db


def test_a_user_who_touched_a_record_cannot_be_deleted(patient, coordinator, clinician):
    episode = new_episode(patient, coordinator)
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    client_for(clinician).get(f"/api/episodes/{episode.pk}/")
    with pytest.raises(ProtectedError):
        clinician.delete()
    assert RedFlag.objects.get(episode=episode).raised_by == clinician
    record = AccessRecord.objects.filter(user=clinician).latest("at")
    assert record.username == "clin-a"


def test_the_admin_refuses_the_delete_and_deactivates_instead(
    client, superuser, patient, coordinator, clinician
):
    episode = new_episode(patient, coordinator)
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=clinician)
    AuthToken.objects.create(user=clinician)
    client.force_login(superuser)
    delete_url = reverse("admin:auth_user_delete", args=[clinician.pk])
    client.post(delete_url, {"post": "yes"})
    clinician.refresh_from_db()  # still there
    assert RedFlag.objects.get(episode=episode).raised_by_id == clinician.pk

    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate", "_selected_action": [clinician.pk]},
        follow=True,
    )
    assert "1 user(s) deactivated." in response.content.decode()
    clinician.refresh_from_db()
    assert clinician.is_active is False
    assert not AuthToken.objects.filter(user=clinician).exists()
