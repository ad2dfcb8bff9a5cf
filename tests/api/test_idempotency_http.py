"""Over real HTTP: an ``Idempotency-Key`` makes a retried POST harmless."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from api.models import IdempotentRequest
from episodes.models import RedFlag
from notifications.models import Reminder
from tests.factories import new_episode
from tests.proxy import request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def post(live_server, coordinator):
    token = AuthToken.objects.create(user=coordinator)[1]

    def call(path: str, body: dict, key: str | None = None, who: str | None = None):
        headers = {"Authorization": f"Token {who or token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return request(live_server.url, "POST", path, body=body, headers=headers)

    return call


def test_three_identical_red_flag_posts_make_one_flag_and_one_alert(post, patient, coordinator):
    episode = new_episode(patient, coordinator)
    path = f"/api/episodes/{episode.pk}/red-flags/"
    body = {"sign": "fever", "note": "38.9"}
    answers = [post(path, body, key="c0ffee-1") for _ in range(3)]
    assert [status for status, _, _ in answers] == [201, 201, 201]
    assert answers[0][2] == answers[1][2] == answers[2][2]
    assert "Idempotent-Replayed" not in answers[0][1]
    assert answers[1][1]["Idempotent-Replayed"] == "true"
    flags = RedFlag.objects.filter(episode=episode, sign="fever")
    assert flags.count() == 1
    assert Reminder.objects.filter(milestone=f"red_flag:{flags.get().pk}").count() == 1


def test_the_same_key_with_another_body_is_422(post, patient, coordinator):
    episode = new_episode(patient, coordinator)
    path = f"/api/episodes/{episode.pk}/red-flags/"
    assert post(path, {"sign": "fever"}, key="k-2")[0] == 201
    status, _, content = post(path, {"sign": "unexplained_weight_loss"}, key="k-2")
    assert status == 422
    assert json.loads(content)["error"] == "idempotency_key_reused"
    assert not RedFlag.objects.filter(episode=episode, sign="unexplained_weight_loss").exists()


def test_keys_belong_to_their_user(post, patient, coordinator, clinician):
    episode = new_episode(patient, coordinator)
    path = f"/api/episodes/{episode.pk}/assessments/"
    other = AuthToken.objects.create(user=clinician)[1]
    assert post(path, {"note": "a"}, key="shared")[0] == 201
    status, headers, _ = post(path, {"note": "a"}, key="shared", who=other)
    assert status == 201
    assert "Idempotent-Replayed" not in headers
    assert episode.assessments.count() == 2


def test_without_a_key_each_post_counts_and_refusals_are_replayed_too(post, patient, coordinator):
    episode = new_episode(patient, coordinator)
    path = f"/api/episodes/{episode.pk}/assessments/"
    assert post(path, {"note": "a"})[0] == 201
    assert post(path, {"note": "a"})[0] == 201
    assert episode.assessments.count() == 2
    assert post(path, {"bogus": True}, key="bad")[0] == 400
    assert post(path, {"bogus": True}, key="bad")[0] == 400


def test_a_key_whose_first_request_died_is_freed_after_five_minutes(post, patient, coordinator):
    episode = new_episode(patient, coordinator)
    path = f"/api/episodes/{episode.pk}/assessments/"
    body = {"note": "after a crash"}
    # What a worker killed mid-request leaves behind: the key claimed, no answer stored.
    assert post(path, body, key="died")[0] == 201
    row = IdempotentRequest.objects.get(key="died")
    IdempotentRequest.objects.filter(pk=row.pk).update(status_code=None, body=b"")
    status, _, content = post(path, body, key="died")
    assert status == 409
    assert json.loads(content)["error"] == "idempotency_key_in_progress"
    IdempotentRequest.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(minutes=6)
    )
    assert post(path, body, key="died")[0] == 201  # taken over and run
    assert episode.assessments.count() == 2
    assert post(path, body, key="died")[1]["Idempotent-Replayed"] == "true"


def test_a_retried_fhir_enrolment_makes_one_patient(live_server, coordinator):
    """POST /fhir/ takes the key too: a retried transaction Bundle enrols once."""
    from episodes.models import Episode, Patient  # noqa: PLC0415
    from tests.interop.helpers import enrolment  # noqa: PLC0415

    token = AuthToken.objects.create(user=coordinator)[1]
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/fhir+json",
        "Accept": "application/fhir+json",
        "Idempotency-Key": "enrol-iris-1",
    }
    answers = [
        request(live_server.url, "POST", "/fhir/", body=enrolment(), headers=headers)
        for _ in range(3)
    ]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[1][1].get("Idempotent-Replayed") == "true"
    assert answers[2][2] == answers[0][2]
    assert Patient.objects.filter(family_name="Demo-Fhir").count() == 1
    assert Episode.objects.count() == 1
    # The same key with another Bundle: refused, as an OperationOutcome, nothing made.
    other = enrolment()
    other["entry"][0]["resource"]["name"][0]["family"] = "Other-Fhir"
    status, _, body = request(live_server.url, "POST", "/fhir/", body=other, headers=headers)
    assert status == 422
    assert json.loads(body)["resourceType"] == "OperationOutcome"
    assert not Patient.objects.filter(family_name="Other-Fhir").exists()
