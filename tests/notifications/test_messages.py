"""Message content: per milestone and language, safety net always, no diagnosis in an SMS."""

from __future__ import annotations

import re
from datetime import date

import pytest

from notifications.checkins.tokens import reminder_id_from_token
from notifications.delivery.messages import render_message
from tests.notifications.helpers import enroll, reminder

ONSET = date(2026, 3, 2)
SAFETY_NET = {
    "en": ["bladder or bowel", "numbness in the saddle area", "leg weakness that gets worse"],
    "es": ["orinar", "intestinos", "silla de montar", "debilidad en las piernas que empeora"],
}
# Health information an SMS must not carry (PATHWAY.md: no diagnosis in an SMS).
DIAGNOSIS = re.compile(
    r"radicul|sciatic|ciátic|lumb|spin|espalda|back|disc|hernia|nerv|pain|dolor|red flag",
    re.IGNORECASE,
)
MILESTONES = ["2_weeks", "6_weeks", "3_months"]


@pytest.fixture
def episode_for(team, coordinator):
    from tests.factories import PatientFactory  # noqa: PLC0415

    def make(language: str, channel: str):
        patient = PatientFactory(
            care_team=team,
            given_name="Lucía" if language == "es" else "Ana",
            family_name="Zamora-Quintana",
            language=language,
            preferred_channel=channel,
            sms_consent=channel == "sms",
        )
        return enroll(patient, coordinator, onset=ONSET, on=ONSET)

    return make


def _token(text: str) -> str:
    return re.search(r"/check-in/([^/\s]+)/", text).group(1)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("milestone", MILESTONES)
def test_sms_carries_name_link_and_safety_net_and_no_diagnosis(episode_for, language, milestone):
    row = reminder(episode_for(language, "sms"), milestone)

    message = render_message(row)

    patient = row.episode.patient
    assert message.to == patient.phone
    assert patient.given_name in message.body
    assert patient.family_name not in message.body
    assert reminder_id_from_token(_token(message.body)) == row.pk
    for phrase in SAFETY_NET[language]:
        assert phrase in message.body
    assert not DIAGNOSIS.search(message.body.replace(patient.given_name, "")), message.body


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("milestone", MILESTONES)
def test_email_per_milestone_and_language_with_safety_net_and_link(
    episode_for, language, milestone
):
    row = reminder(episode_for(language, "email"), milestone)

    message = render_message(row)

    assert message.to == row.episode.patient.email
    assert message.subject
    assert "\n" not in message.subject
    assert row.episode.patient.given_name in message.body
    assert reminder_id_from_token(_token(message.body)) == row.pk
    for phrase in SAFETY_NET[language]:
        assert phrase in message.body
    assert "&#x27;" not in message.body  # text, not HTML-escaped
    assert ("check-in" in message.subject) == (language == "en")


def test_the_two_languages_differ_per_milestone(episode_for):
    en, es = episode_for("en", "email"), episode_for("es", "email")
    for milestone in MILESTONES:
        english = render_message(reminder(en, milestone))
        spanish = render_message(reminder(es, milestone))
        assert english.subject != spanish.subject
    subjects = {render_message(reminder(en, m)).subject for m in MILESTONES}
    assert len(subjects) == 3


@pytest.mark.parametrize(
    ("milestone", "rules"),
    [("2_weeks", ["REF-2"]), ("6_weeks", ["CC-1", "IM-1"]), ("3_months", ["REF-1"])],
)
def test_care_team_notice_names_the_episode_and_rules_not_the_patient(
    episode_for, milestone, rules
):
    episode = episode_for("en", "email")
    row = reminder(episode, milestone, "care_team")

    message = render_message(row)

    assert message.to == episode.care_team.email
    assert f"#{episode.pk}" in message.subject
    for rule in rules:
        assert rule in message.body
    for detail in ("Ana", "Zamora-Quintana", episode.patient.email, episode.patient.phone):
        assert detail not in message.subject + message.body
