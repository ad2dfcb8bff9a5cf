"""A reported red-flag symptom is never dropped by the check-in page.

PATHWAY.md "Patient check-in answers": a reported red-flag symptom raises the flag,
escalates and alerts the care team even when the rest of the form is incomplete; no rate
limit refuses it, and the limits are per link, never across patients.
"""

from __future__ import annotations

import pytest

from careflow import rules
from episodes.models import Episode, RedFlag
from notifications.checkins.tokens import checkin_token_for
from notifications.models import CheckIn, Reminder
from tests.clock import at_day
from tests.factories import PatientFactory, new_episode

PROXY = "10.0.0.1"  # every patient behind one reverse proxy shares its address


def url(token: str) -> str:
    return f"/check-in/{token}/"


@pytest.fixture
def reminder(patient, coordinator):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    return Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")


def another_reminder(team, coordinator) -> Reminder:
    episode = new_episode(PatientFactory(care_team=team), coordinator, radicular_pain=True)
    return Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")


def test_saddle_numbness_on_an_unfinished_form_is_recorded_and_alerts(client, reminder):
    with at_day(14):
        response = client.post(
            url(checkin_token_for(reminder)), {"symptoms": ["saddle_numbness"]}, REMOTE_ADDR=PROXY
        )
    assert response.status_code == 400  # the page asks for the rest
    page = response.content.decode()
    assert "Please choose how your pain is overall" in page
    assert "Your care team has been alerted" in page
    flag = RedFlag.objects.get(episode=reminder.episode)
    assert (flag.sign, flag.category, flag.source) == ("saddle_anesthesia", rules.RF_1, "patient")
    episode = Episode.objects.get(pk=reminder.episode_id)
    assert episode.state == "urgent_escalation"
    assert episode.urgent_since is not None
    assert Reminder.objects.filter(
        episode=episode, audience="care_team", milestone=f"red_flag:{flag.pk}"
    ).exists()
    assert not CheckIn.objects.exists()
    # Finishing the form records the check-in and raises nothing twice.
    with at_day(14):
        done = client.post(
            url(checkin_token_for(reminder)),
            {"overall": "worse", "disabling": "no", "symptoms": ["saddle_numbness"]},
        )
    assert done.status_code == 200
    assert CheckIn.objects.get().symptoms == ["saddle_numbness"]
    assert RedFlag.objects.filter(episode=episode).count() == 1


def test_an_unfinished_form_without_a_red_flag_records_nothing(client, reminder):
    with at_day(14):
        response = client.post(url(checkin_token_for(reminder)), {"overall": "same"})
    assert response.status_code == 400
    assert not RedFlag.objects.exists()
    assert Episode.objects.get(pk=reminder.episode_id).version == reminder.episode.version


def test_the_limit_is_per_link_not_across_patients_behind_one_proxy(
    client, reminder, team, coordinator
):
    answers = {"overall": "same", "disabling": "no"}
    with at_day(14):
        token = checkin_token_for(reminder)
        codes = [client.post(url(token), answers, REMOTE_ADDR=PROXY).status_code for _ in range(11)]
        other = another_reminder(team, coordinator)
        neighbour = client.post(url(checkin_token_for(other)), answers, REMOTE_ADDR=PROXY)
    assert codes == [200] * 10 + [429]
    assert neighbour.status_code == 200
    assert CheckIn.objects.filter(reminder=other).exists()


def test_a_red_flag_answer_is_taken_past_the_limit(client, reminder):
    with at_day(14):
        token = checkin_token_for(reminder)
        for _ in range(10):
            client.post(url(token), {"overall": "same", "disabling": "no"}, REMOTE_ADDR=PROXY)
        limited = client.post(url(token), {"overall": "same", "disabling": "no"}, REMOTE_ADDR=PROXY)
        urgent = client.post(
            url(token),
            {"overall": "worse", "disabling": "no", "symptoms": ["saddle_numbness"]},
            REMOTE_ADDR=PROXY,
        )
        unfinished = client.post(url(token), {"symptoms": ["fever"]}, REMOTE_ADDR=PROXY)
    assert limited.status_code == 429
    assert urgent.status_code == 200
    assert unfinished.status_code == 400
    signs = set(RedFlag.objects.values_list("sign", flat=True))
    assert signs == {"saddle_anesthesia", "fever"}
