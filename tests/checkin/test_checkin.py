"""Patient check-ins: the service's effects on the episode, and the page's every answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from careflow import rules
from episodes import services
from episodes.models import Assessment, Episode, RedFlag
from episodes.selectors import episode_pathway_view
from notifications import services as notifications_services
from notifications.checkins.tokens import checkin_token_for
from notifications.models import CheckIn, Reminder
from tests.clock import ONSET, at_day
from tests.factories import PatientFactory, new_episode


@pytest.fixture
def episode(patient, coordinator):
    return new_episode(patient, coordinator, radicular_pain=True)


@pytest.fixture
def reminder(episode):
    return Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")


def submit(reminder, overall="same", *, disabling=False, symptoms=()):
    return notifications_services.checkin_submit(
        reminder_id=reminder.pk, overall=overall, disabling_pain=disabling, symptoms=list(symptoms)
    )


def refresh(episode) -> Episode:
    return Episode.objects.get(pk=episode.pk)


# -- the service ----------------------------------------------------------------------------


def test_saddle_numbness_raises_rf1_escalates_and_alerts(episode, reminder):
    with at_day(14):
        checkin = submit(reminder, "worse", symptoms=["saddle_numbness"])
    flag = RedFlag.objects.get(episode=episode)
    assert (flag.sign, flag.category, flag.source, flag.raised_by) == (
        "saddle_anesthesia",
        rules.RF_1,
        "patient",
        None,
    )
    after = refresh(episode)
    assert after.state == "urgent_escalation"
    assert after.urgent_since is not None
    assert Reminder.objects.filter(
        episode=episode, audience="care_team", milestone=f"red_flag:{flag.pk}"
    ).exists()
    assert checkin.symptoms == ["saddle_numbness"]


def test_no_symptom_raises_no_flag(episode, reminder):
    with at_day(14):
        submit(reminder, "better")
    assert not RedFlag.objects.filter(episode=episode).exists()
    assert refresh(episode).state == "conservative_care"


def test_bladder_or_bowel_raises_both_rf1_signs(episode, reminder):
    with at_day(14):
        submit(reminder, "worse", symptoms=["bladder_or_bowel_problems"])
    signs = set(RedFlag.objects.filter(episode=episode).values_list("sign", flat=True))
    assert signs == {"incontinence", "urinary_retention"}


def test_disabling_pain_records_an_assessment_and_the_ref2_deadline(episode, reminder):
    with at_day(14):
        submit(reminder, "worse", disabling=True)
    assessment = Assessment.objects.filter(episode=episode, source="patient").get()
    assert assessment.values == {"disabling_pain": True}
    after = refresh(episode)
    assert (after.next_deadline, after.next_deadline_rule) == (
        ONSET + timedelta(days=28),
        rules.REF_2,
    )


def test_not_disabling_records_nothing(episode, reminder):
    with at_day(14):
        submit(reminder, "same", disabling=False)
    assert not Assessment.objects.filter(episode=episode, source="patient").exists()


def test_resolved_asks_the_team_to_confirm_without_resolving(episode, reminder):
    with at_day(14):
        submit(reminder, "resolved")
        view = episode_pathway_view(refresh(episode))
    after = refresh(episode)
    assert after.state == "conservative_care"
    assert after.resolution_reported_on == ONSET + timedelta(days=14)
    assert "confirm_resolution" in {a["action"] for a in view["next_actions"]}


def test_a_correction_updates_the_checkin_and_never_lowers_a_flag(episode, reminder):
    with at_day(14):
        submit(reminder, "worse", symptoms=["fever"])
    with at_day(15):
        submit(reminder, "same", symptoms=[])
    checkin = CheckIn.objects.get(reminder=reminder)
    assert (checkin.overall, checkin.symptoms, checkin.corrections) == ("same", [], 1)
    assert RedFlag.objects.get(episode=episode).status == "active"


def test_unknown_answers_are_refused(reminder):
    with at_day(14), pytest.raises(ValidationError) as exc:
        submit(reminder, "fantastic", symptoms=["hiccups"])
    assert set(exc.value.message_dict) == {"overall", "symptoms"}


# -- the page -------------------------------------------------------------------------------


def url(token: str) -> str:
    return f"/check-in/{token}/"


ANSWERS = {"overall": "worse", "disabling": "no", "symptoms": ["saddle_numbness"]}


def test_page_in_english_with_safety_net(client, reminder):
    with at_day(14):
        response = client.get(url(checkin_token_for(reminder)))
    text = response.content.decode()
    assert response.status_code == 200
    assert 'lang="en"' in text
    assert "Numbness between your legs" in text
    assert "Seek urgent care now" in text
    assert 'name="viewport"' in text


def test_page_in_spanish(client, team, coordinator):
    patient = PatientFactory(care_team=team, language="es")
    episode = new_episode(patient, coordinator)
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    with at_day(14):
        text = client.get(url(checkin_token_for(reminder))).content.decode()
    assert 'lang="es"' in text
    assert "Busque atención urgente" in text


def test_submit_records_and_confirms(client, reminder, episode):
    with at_day(14):
        response = client.post(url(checkin_token_for(reminder)), ANSWERS)
    assert response.status_code == 200
    assert "your answers have reached your care team" in response.content.decode()
    assert refresh(episode).state == "urgent_escalation"


def test_missing_answers_are_explained_and_change_nothing(client, reminder):
    with at_day(14):
        response = client.post(url(checkin_token_for(reminder)), {"disabling": "yes"})
    assert response.status_code == 400
    assert "Please choose how your pain is overall" in response.content.decode()
    assert not CheckIn.objects.exists()
    assert not RedFlag.objects.exists()


def test_expired_token_gets_a_clear_page(client, reminder):
    with at_day(14):
        token = checkin_token_for(reminder)
    with at_day(14 + 15):
        response = client.get(url(token))
    assert response.status_code == 410
    text = response.content.decode()
    assert "expired" in text
    assert "contact your care team" in text


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("aa" if not t.endswith("aa") else "bb"),  # tampered signature
        lambda _t: "not-a-token",
        lambda t: t.replace(":", "", 1),
    ],
)
def test_tampered_token_gets_a_clear_page(client, reminder, mangle):
    with at_day(14):
        response = client.get(url(mangle(checkin_token_for(reminder))))
        posted = client.post(url(mangle(checkin_token_for(reminder))), ANSWERS)
    assert (response.status_code, posted.status_code) == (404, 404)
    assert "not valid" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_token_for_a_deleted_reminder_gets_a_clear_page(client, reminder):
    with at_day(14):
        token = checkin_token_for(reminder)
        Reminder.objects.filter(pk=reminder.pk).delete()
        assert client.get(url(token)).status_code == 404


def test_care_team_reminder_token_is_refused(client, episode):
    team_reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="care_team")
    with at_day(14):
        assert client.get(url(checkin_token_for(team_reminder))).status_code == 404


def test_an_ended_episodes_page_still_takes_red_flag_symptoms(
    client, reminder, episode, coordinator
):
    """PATHWAY.md: a red-flag answer on a resolved or closed episode reaches the care team."""
    with at_day(14):
        services.episode_transition(episode_id=episode.pk, name="resolve", by=coordinator, data={})
        response = client.get(url(checkin_token_for(reminder)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "has ended" in page
    assert 'name="symptoms"' in page


def test_replayed_submission_is_a_correction_not_a_second_checkin(client, reminder):
    token = None
    with at_day(14):
        token = checkin_token_for(reminder)
        client.post(url(token), ANSWERS)
        client.post(url(token), ANSWERS)
    checkin = CheckIn.objects.get()
    assert checkin.corrections == 1
    assert RedFlag.objects.count() == 1


def test_submissions_are_rate_limited(client, reminder):
    with at_day(14):
        token = checkin_token_for(reminder)
        codes = [
            client.post(url(token), {"overall": "same", "disabling": "no"}).status_code
            for _ in range(12)
        ]
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]


def test_csrf_is_enforced(reminder):
    strict = Client(enforce_csrf_checks=True)
    with at_day(14):
        response = strict.post(url(checkin_token_for(reminder)), ANSWERS)
    assert response.status_code == 403
    assert not CheckIn.objects.exists()


def test_html_in_the_patients_name_is_escaped(client, team, coordinator):
    patient = PatientFactory(care_team=team, given_name="<script>alert(1)</script>")
    episode = new_episode(patient, coordinator)
    reminder = Reminder.objects.get(episode=episode, milestone="2_weeks", audience="patient")
    with at_day(14):
        text = client.get(url(checkin_token_for(reminder))).content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_get_and_post_only(client, reminder):
    with time_machine.travel(ONSET + timedelta(days=14), tick=False):
        assert client.put(url(checkin_token_for(reminder))).status_code == 405


def test_every_checkin_is_in_the_timeline(episode, reminder):
    from episodes.selectors import episode_timeline  # noqa: PLC0415

    with at_day(14):
        submit(reminder, "worse", symptoms=["fever"])
    events = episode_timeline(refresh(episode))
    checkins = [e for e in events if e.kind == "checkin"]
    assert len(checkins) == 1
    assert checkins[0].source == "patient"
    assert checkins[0].data["symptoms"] == ["fever"]
    raised = [e for e in events if e.kind == "red_flag_raised"]
    assert [(e.source, e.data["sign"]) for e in raised] == [("patient", "fever")]
