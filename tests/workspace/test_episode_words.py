"""The episode page in a coordinator's words: codes as words, people by name, a timeline to filter.

Reminders and their milestones, timeline entries, imaging modality, channels and signs are
words; users are shown by their full names (the username when they have none); the
timeline folds the reminders' bookkeeping away unless asked (``?timeline=``, no script).
"""

from __future__ import annotations

from episodes import services
from tests.clock import ONSET, at_day
from tests.workspace.helpers import signed_in, words

CODES = (
    "red_flag:",
    "care_team",
    "2_weeks",
    "6_weeks",
    "3_months",
    "mri_lumbar_without_contrast",
    "Iv drug use",
    "Sms",
    "urgent_escalation",
    "conservative_care",
)


def test_codes_are_words(coordinator, clinician, episode):
    coordinator.first_name, coordinator.last_name = "Casey", "Morgan"
    coordinator.save()
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="iv_drug_use", by=coordinator)
        services.imaging_record(episode_id=episode.pk, by=clinician, performed_on=ONSET)
        page = words(signed_in(coordinator).get(f"/episodes/{episode.pk}/", {"timeline": "all"}))
    for code in CODES:
        assert code not in page, code
    assert "Red flag: IV drug use — RF-4 suspected infection" in page
    assert "MRI of the lumbar spine without contrast" in page
    assert "Alert: a red flag was raised to the care team by email: scheduled" in page
    assert "2-week check-in to the patient by email: scheduled" in page
    assert "6-week reassessment" in page
    assert "no 6-week reassessment while the episode is urgent escalation" in page
    # People by their full names; one without a name by their username.
    assert "Red flag raised: IV drug use (RF-4) — Casey Morgan" in page
    assert "raised 2026-10-06 (just now) by Casey Morgan" in page
    assert "— clin-a" in page
    assert "— Careflow" in page  # the system's entries


def test_the_timeline_folds_reminders_away_by_default(coordinator, episode):
    client = signed_in(coordinator)
    url = f"/episodes/{episode.pk}/"
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        client.post(f"{url}outreach/", {"kind": "no_answer", "note": "tried twice"})
        default = words(client.get(url))
        reminders = words(client.get(url, {"timeline": "reminders"}))
        clinical = words(client.get(url, {"timeline": "clinical"}))
        messages = words(client.get(url, {"timeline": "messages"}))
        everything = words(client.get(url, {"timeline": "all"}))
        unknown = words(client.get(url, {"timeline": "nonsense"}))
    reminder = "2-week check-in to the patient by email: scheduled"
    flag = "Red flag raised: Fever (RF-4)"
    outreach = "Called, no answer: tried twice"
    history = lambda page: page[page.index("Timeline (newest first)") :]  # noqa: E731
    assert reminder not in history(default)
    assert flag in history(default)
    assert outreach in history(default)
    assert "7 reminder entries are not shown. Show everything" in default
    assert reminder in history(reminders)
    assert flag not in history(reminders)
    assert flag in history(clinical)
    assert outreach not in history(clinical)
    assert outreach in history(messages)
    assert flag not in history(messages)
    assert all(line in history(everything) for line in (reminder, flag, outreach))
    assert history(unknown) == history(default)
