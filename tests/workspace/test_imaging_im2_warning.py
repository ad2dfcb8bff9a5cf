"""Imaging recorded before day 42 with no red flag: recorded, with IM-2 said in words.

On the page, a warning callout after recording it and a tag beside the study; through the
API, an IM-2 entry in the 201 body's ``warnings``. Never a refusal.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from episodes import services
from episodes.models import ImagingStudy
from tests.clients import client_for, url
from tests.clock import ONSET, at_day
from tests.workspace.helpers import signed_in, words

CALLOUT = "The imaging is recorded, against IM-2"


def record_on_the_page(client, episode, performed_on: str):
    response = client.post(f"/episodes/{episode.pk}/imaging/", {"performed_on": performed_on})
    assert response.status_code == 302
    return response, words(client.get(response["Location"]))


def test_early_imaging_with_no_flag_is_recorded_with_an_im2_warning(coordinator, episode):
    client = signed_in(coordinator)
    with at_day(8):
        response, page = record_on_the_page(client, episode, "2026-10-09")
        later = words(client.get(f"/episodes/{episode.pk}/"))
    study = ImagingStudy.objects.get(episode=episode)
    assert response["Location"] == f"/episodes/{episode.pk}/?done=imaging&study={study.pk}#top"
    assert CALLOUT in page
    assert (
        "IM-2: no imaging before 42 days of conservative care unless a red flag is active:"
        " this study is from day 8" in page
    )
    assert CALLOUT not in later  # said once, when recorded; the study keeps its tag
    assert "IM-2 no imaging before 42 days" in later


def test_early_imaging_with_an_active_flag_says_nothing(coordinator, episode):
    with at_day(8):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        _, page = record_on_the_page(signed_in(coordinator), episode, "2026-10-09")
    assert "Saved." in page
    assert CALLOUT not in page
    assert "IM-2 no imaging" not in page


def test_imaging_after_day_42_says_nothing(coordinator, episode):
    with at_day(45):
        _, page = record_on_the_page(signed_in(coordinator), episode, "2026-11-14")
    assert CALLOUT not in page


@pytest.mark.parametrize(
    ("day", "flag", "rules"), [(8, None, ["IM-2"]), (8, "fever", []), (45, None, [])]
)
def test_the_api_lists_the_warning_in_the_201_body(coordinator, episode, day, flag, rules):
    with at_day(day):
        if flag:
            services.red_flag_raise(episode_id=episode.pk, sign=flag, by=coordinator)
        response = client_for(coordinator).post(
            url(f"episodes/{episode.pk}/imaging/"),
            {"performed_on": (ONSET + timedelta(days=day)).isoformat()},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    assert [w["rule"] for w in body["warnings"]] == rules
    assert ImagingStudy.objects.filter(pk=body["id"]).exists()


def test_imaging_dated_tomorrow_is_refused_in_words_linked_to_its_date(coordinator, episode):
    with at_day(8):
        response = signed_in(coordinator).post(
            f"/episodes/{episode.pk}/imaging/", {"performed_on": "2026-10-10"}
        )
    assert response.status_code == 400
    assert '<a href="#imaging-performed_on">The date the imaging was done must be today or in' in (
        response.content.decode()
    )
    assert not ImagingStudy.objects.filter(episode=episode).exists()
