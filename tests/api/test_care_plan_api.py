"""The conservative care plan: items with category, evidence and flags (CC-3, RFA-1)."""

from __future__ import annotations

import pytest

from careflow import rules
from tests.clients import url


def add(client, episode, **body):
    return client.post(url(f"episodes/{episode.pk}/care-plan/"), body, format="json")


# (item, extra fields, category, rules of the flags it carries)
ITEMS = [
    ("nsaid", {"started_on": "2026-10-02"}, "medication", []),
    ("pregabalin", {}, "medication", [rules.CC_3]),
    ("opioid_short_term", {}, "medication", [rules.CC_3]),
    ("opioid_short_term", {"ended_on": "2026-10-09"}, "medication", []),
    ("mckenzie", {}, "physical_therapy", []),
    ("natural_history_education", {}, "education", []),
    ("radiofrequency_ablation", {}, "interventional", [rules.RFA_1]),
    ("radiofrequency_ablation", {"positive_medial_branch_block": True}, "interventional", []),
    ("pulsed_radiofrequency_drg", {}, "interventional", []),
]


@pytest.mark.parametrize("case", ITEMS)
def test_items_are_recorded_and_flagged_never_refused(as_user, clinician, episode, case):
    item, extra, category, flag_rules = case
    response = add(as_user(clinician), episode, item=item, **extra)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["item"], body["category"]) == (item, category)
    assert body["evidence"]
    assert [f["rule"] for f in body["flags"]] == flag_rules


def test_unknown_item_is_400(as_user, clinician, episode):
    response = add(as_user(clinician), episode, item="acupuncture")
    assert response.status_code == 400
    assert "item" in response.json()


def test_end_before_start_is_400(as_user, clinician, episode):
    response = add(
        as_user(clinician), episode, item="nsaid", started_on="2026-10-05", ended_on="2026-10-01"
    )
    assert response.status_code == 400
    assert "ended_on" in response.json()


def test_education_clears_the_cc2_next_action(as_user, clinician, episode):
    client = as_user(clinician)
    before = client.get(url(f"episodes/{episode.pk}/")).json()["next_actions"]
    assert before[0]["rule"] == rules.CC_2
    add(client, episode, item="stay_active_advice")
    after = client.get(url(f"episodes/{episode.pk}/")).json()
    assert rules.CC_2 not in [a["rule"] for a in after["next_actions"]]
    assert [i["item"] for i in after["care_plan"]] == ["stay_active_advice"]


def test_list_and_patch_an_item(as_user, clinician, episode, other_episode):
    client = as_user(clinician)
    opioid = add(client, episode, item="opioid_short_term", started_on="2026-10-02").json()
    add(client, episode, item="nsaid")
    listed = client.get(url(f"episodes/{episode.pk}/care-plan/")).json()
    assert [i["item"] for i in listed] == ["opioid_short_term", "nsaid"]
    path = url(f"episodes/{episode.pk}/care-plan/{opioid['id']}/")
    response = client.patch(path, {"ended_on": "2026-10-09"}, format="json")
    assert response.status_code == 200
    assert response.json()["ended_on"] == "2026-10-09"
    assert response.json()["flags"] == []
    bad = client.patch(path, {"ended_on": "2026-09-01"}, format="json")
    assert bad.status_code == 400
    elsewhere = client.patch(
        url(f"episodes/{other_episode.pk}/care-plan/{opioid['id']}/"), {}, format="json"
    )
    assert elsewhere.status_code == 404
