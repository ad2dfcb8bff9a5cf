"""Assessments, red flags (raise, rule out) and imaging through the API."""

from __future__ import annotations

from datetime import date

import pytest

from careflow import rules
from episodes.models import Episode, RedFlag
from tests.clients import url
from tests.clock import at_day


def test_assessment_updates_facts_and_dates_ref2(as_user, clinician, episode):
    client = as_user(clinician)
    with at_day(10):
        response = client.post(
            url(f"episodes/{episode.pk}/assessments/"),
            {"disabling_pain": True, "note": "cannot work"},
            format="json",
        )
        detail = client.get(url(f"episodes/{episode.pk}/")).json()
    assert response.status_code == 201, response.content
    assert response.json()["values"] == {"disabling_pain": True}
    assert detail["facts"]["disabling_pain"] is True
    assert detail["facts"]["radicular_pain"] is True  # earlier values stay current
    assert detail["deadlines"][0]["rule"] == rules.REF_2
    assert detail["deadlines"][0]["due"] == "2026-10-25"


@pytest.mark.parametrize(
    "body", [{}, {"radicular_pain": "yes"}, {"note": ""}, {"radicular_pain": None}]
)
def test_empty_or_mistyped_assessment_is_400(as_user, clinician, episode, body):
    response = as_user(clinician).post(
        url(f"episodes/{episode.pk}/assessments/"), body, format="json"
    )
    assert response.status_code == 400


def test_red_flag_raises_with_category_and_escalates(as_user, coordinator, episode):
    with at_day(5):
        response = as_user(coordinator).post(
            url(f"episodes/{episode.pk}/red-flags/"),
            {"sign": "saddle_anesthesia", "note": "reported by phone"},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["category"] == rules.RF_1
    assert response.json()["status"] == "active"
    refreshed = Episode.objects.get(pk=episode.pk)
    assert refreshed.state == "urgent_escalation"
    assert refreshed.urgent_since is not None


@pytest.mark.parametrize("sign", ["sore_toe", "age_over_50_new_onset", ""])
def test_unknown_or_derived_sign_is_400(as_user, coordinator, episode, sign):
    response = as_user(coordinator).post(
        url(f"episodes/{episode.pk}/red-flags/"), {"sign": sign}, format="json"
    )
    assert response.status_code == 400
    assert "sign" in response.json()
    assert not RedFlag.objects.exists()


def test_rule_out_a_red_flag(as_user, coordinator, clinician, episode, other_episode):
    client = as_user(clinician)
    flag = client.post(
        url(f"episodes/{episode.pk}/red-flags/"), {"sign": "fever"}, format="json"
    ).json()
    path = url(f"episodes/{episode.pk}/red-flags/{flag['id']}/")
    bad = client.patch(path, {"status": "active"}, format="json")
    assert bad.status_code == 400
    response = client.patch(path, {"status": "ruled_out", "note": "afebrile"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "ruled_out"
    assert response.json()["ruled_out_note"] == "afebrile"
    again = client.patch(path, {"status": "ruled_out"}, format="json")
    assert again.status_code == 400
    # A flag id under another episode's URL is not found.
    wrong = client.patch(
        url(f"episodes/{other_episode.pk}/red-flags/{flag['id']}/"),
        {"status": "ruled_out"},
        format="json",
    )
    assert wrong.status_code == 404


def test_imaging_recorded(as_user, clinician, episode):
    with at_day(45):
        response = as_user(clinician).post(
            url(f"episodes/{episode.pk}/imaging/"),
            {
                "modality": "mri_lumbar_without_contrast",
                "performed_on": "2026-11-14",
                "nerve_root_compression": True,
                "level": "L5-S1",
                "clinically_correlated": True,
            },
            format="json",
        )
        future = as_user(clinician).post(
            url(f"episodes/{episode.pk}/imaging/"), {"performed_on": "2026-12-30"}, format="json"
        )
    assert response.status_code == 201, response.content
    assert response.json()["performed_on"] == "2026-11-14"
    assert response.json()["level"] == "L5-S1"
    assert future.status_code == 400
    assert "performed_on" in future.json()
    assert Episode.objects.get(pk=episode.pk).imaging.get().performed_on == date(2026, 11, 14)


def test_terminal_episode_takes_no_new_facts(as_user, coordinator, episode):
    client = as_user(coordinator)
    client.post(url(f"episodes/{episode.pk}/transitions/resolve/"), {}, format="json")
    response = client.post(
        url(f"episodes/{episode.pk}/assessments/"), {"radicular_pain": False}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"] == "episode_closed"
