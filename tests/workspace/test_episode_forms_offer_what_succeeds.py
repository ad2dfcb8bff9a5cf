"""The episode page's forms offer only what can succeed.

The referral's urgency offers only what the rules allow, the required one chosen (RF, REF-2);
a clinician's decision (plan_surgery, ruling a flag out, reviewing a report, closing with a
flag active) names who decides for anyone else, and is a form for a clinician; Close asks
to confirm, its reasons in words, and changes nothing until it is confirmed.
"""

from __future__ import annotations

from episodes import services
from episodes.models import Episode
from tests.clock import at_day
from tests.factories import new_episode
from tests.workspace.helpers import in_surgical_review, section, signed_in, text

URGENCY_INPUT = 'name="urgency" type="radio" value="{}"'


def referral_form(client, episode) -> str:
    return section(text(client.get(f"/episodes/{episode.pk}/")), "form-t-refer_to_specialist")


def test_with_rf1_active_the_referral_offers_only_immediate(coordinator, episode):
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
        form = referral_form(signed_in(coordinator), episode)
    assert f"{URGENCY_INPUT.format('immediate')} checked" in form
    assert URGENCY_INPUT.format("within_2_weeks") not in form
    assert URGENCY_INPUT.format("routine") not in form
    assert "At least immediate, because a red flag is active (RF-1 cauda equina syndrome)" in form


def test_without_a_flag_the_referral_offers_all_three(coordinator, episode):
    with at_day(5):
        form = referral_form(signed_in(coordinator), episode)
    for urgency in ("immediate", "within_2_weeks", "routine"):
        assert URGENCY_INPUT.format(urgency) in form
    assert " checked" not in form
    assert "At least" not in form


def test_with_disabling_pain_the_referral_offers_two_weeks_or_sooner(coordinator, patient):
    episode = new_episode(patient, coordinator, radicular_pain=True, disabling_pain=True)
    with at_day(5):
        form = referral_form(signed_in(coordinator), episode)
    assert f"{URGENCY_INPUT.format('within_2_weeks')} checked" in form
    assert URGENCY_INPUT.format("immediate") in form
    assert URGENCY_INPUT.format("routine") not in form
    assert "disabling pain is recorded (REF-2)" in form


def test_a_coordinator_is_told_who_plans_surgery_a_clinician_gets_the_form(
    coordinator, clinician, episode
):
    clinician.first_name, clinician.last_name = "Robin", "Okafor"
    clinician.save()
    episode = in_surgical_review(episode, coordinator, clinician)
    action = f'action="/episodes/{episode.pk}/transitions/plan_surgery/"'
    with at_day(6):
        as_coordinator = section(
            text(signed_in(coordinator).get(f"/episodes/{episode.pk}/")), "form-t-plan_surgery"
        )
        as_clinician = section(
            text(signed_in(clinician).get(f"/episodes/{episode.pk}/")), "form-t-plan_surgery"
        )
    assert "A clinician of the care team decides this: Robin Okafor." in as_coordinator
    assert action not in as_coordinator
    assert action in as_clinician
    assert "decides this" not in as_clinician


def test_ruling_a_flag_out_is_a_form_for_a_clinician_only(coordinator, clinician, episode):
    with at_day(5):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        as_coordinator = text(signed_in(coordinator).get(f"/episodes/{episode.pk}/"))
        as_clinician = text(signed_in(clinician).get(f"/episodes/{episode.pk}/"))
    action = f'action="/episodes/{episode.pk}/red-flags/{flag.pk}/rule-out/"'
    assert action not in as_coordinator
    assert "Ruling a red flag out is a clinical judgement." in as_coordinator
    assert "decides this: clin-a." in as_coordinator  # no full name: the username
    assert action in as_clinician


def test_closing_with_an_active_flag_names_who_decides(coordinator, clinician, episode):
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        as_coordinator = section(
            text(signed_in(coordinator).get(f"/episodes/{episode.pk}/")), "form-t-close"
        )
        as_clinician = section(
            text(signed_in(clinician).get(f"/episodes/{episode.pk}/")), "form-t-close"
        )
    assert "A clinician of the care team decides this" in as_coordinator
    assert "/transitions/close/" not in as_coordinator
    assert "/transitions/close/" in as_clinician


def test_close_offers_its_reasons_in_words(coordinator, episode):
    with at_day(5):
        form = section(text(signed_in(coordinator).get(f"/episodes/{episode.pk}/")), "form-t-close")
    assert ">Lost to follow-up</label>" in form
    assert ">Transferred to another service</label>" in form
    assert ">lost to follow up<" not in form


def test_close_without_confirmation_changes_nothing(coordinator, episode):
    url = f"/episodes/{episode.pk}/transitions/close/"
    form = {"version": episode.version, "reason": "lost_to_follow_up", "note": "three letters"}
    client = signed_in(coordinator)
    with at_day(5):
        asked = client.post(url, form)
    page = text(asked)
    assert asked.status_code == 200
    assert "Close this episode?" in page
    assert "Lost to follow-up" in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert '<input type="hidden" name="reason" value="lost_to_follow_up">' in page
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"

    with at_day(5):
        closed = client.post(url, {**form, "confirmed": "yes"})
    assert closed.status_code == 302
    episode = Episode.objects.get(pk=episode.pk)
    assert episode.state == "closed"
    assert episode.closure.reason == "lost_to_follow_up"


def test_close_without_a_reason_is_refused_before_it_asks(coordinator, episode):
    with at_day(5):
        response = signed_in(coordinator).post(
            f"/episodes/{episode.pk}/transitions/close/", {"version": episode.version}
        )
    assert response.status_code == 400
    assert "Close this episode?" not in text(response)
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"
