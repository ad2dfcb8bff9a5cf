"""The workspace's pages through Django's test client: scoping, audit, refusals as sentences."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from api.models import AccessRecord
from episodes import services
from episodes.models import Episode, Patient
from tests.clock import ONSET, at_day
from tests.factories import new_episode
from workspace.models import OutreachNote


@pytest.fixture
def browser_of():
    from django.test import Client  # noqa: PLC0415

    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login


def test_the_board_needs_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workspace:login"))
    polled = client.get("/", headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert polled["HX-Redirect"] == reverse("workspace:login")


def test_the_board_puts_urgent_work_first_and_refreshes_as_a_fragment(
    browser_of, coordinator, episode
):
    with at_day(5):
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
        page = browser_of(coordinator).get("/")
        fragment = browser_of(coordinator).get("/", headers={"HX-Request": "true"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "1 urgent episode" in html
    assert html.index("urgent episode") < html.index("Overdue")
    assert episode.patient.display_name in html
    assert 'hx-trigger="every 20s"' in html
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert episode.patient.display_name in fragment.content.decode()


def test_a_queue_filters_by_who_has_it_and_never_by_a_name(browser_of, coordinator, team, episode):
    """Finding a patient is the header's search (POST): a queue's URL carries no name."""
    client = browser_of(coordinator)
    with at_day(3):
        everyone = client.get("/queues/unassigned/").content.decode()
        named = client.get("/queues/unassigned/", {"q": "nobody-has-this-name"}).content.decode()
        mine = client.get("/queues/unassigned/", {"show": "mine"}).content.decode()
        bad_cursor = client.get("/queues/unassigned/", {"cursor": "nonsense"})
        bad_size = client.get("/queues/unassigned/", {"cursor": "x", "page_size": "10000"})
        unknown = client.get("/queues/no-such-queue/")
    assert episode.patient.family_name in everyone
    assert episode.patient.family_name in named  # a name in the URL filters nothing
    assert 'name="q"' not in everyone.split("</header>")[1]  # no name box but the header's
    assert "No patients in this queue match these filters." in mine
    assert bad_cursor.status_code == 200
    assert "no longer valid" in bad_cursor.content.decode()
    assert bad_size.status_code == 200
    assert unknown.status_code == 404


def _row_of(html: str, episode_id: int) -> str:
    row = html[html.index(f'id="row-{episode_id}"') :]
    return row[: row.index("</tr>")]


def test_a_queue_row_links_its_episode_and_offers_its_teams_members(
    browser_of, coordinator, clinician, episode, other_episode
):
    """Each row's links, ids and choices are its own (built once a page)."""
    with at_day(3):
        html = browser_of(coordinator).get("/queues/unassigned/", {"show": "all"}).content.decode()
    assert f"row-{other_episode.pk}" not in html  # another team's episode: not listed
    row = _row_of(html, episode.pk)
    episode_url = reverse("workspace:episode", args=[episode.pk])
    assign_url = reverse("workspace:assign", args=[episode.pk])
    assert (
        f'<a href="{episode_url}" id="open-{episode.pk}">{episode.patient.display_name}</a>' in row
    )
    assert row.count(f'action="{assign_url}" hx-post="{assign_url}"') == 2  # Take, Assign
    assert row.count(f'hx-target="#row-{episode.pk}"') == 2
    assert row.count("csrfmiddlewaretoken") == 2
    assert row.count('<input type="hidden" name="next" value="/queues/unassigned/?show=all">') == 2
    name = episode.patient.display_name
    assert f'<span class="cf-small">born {episode.patient.birth_date:%Y-%m-%d}</span>' in row
    assert (
        f'<label class="nhsuk-u-visually-hidden" for="assign-{episode.pk}">Assign {name} to<' in row
    )
    assert f'id="take-{episode.pk}" aria-label="Take {name}">Take</button>' in row
    assert f'aria-label="Assign {name}">Assign</summary>' in row
    assert f'id="assign-{episode.pk}" name="assigned_to">' in row
    assert f'<span class="cf-assignee" id="who-{episode.pk}"><em>nobody</em></span>' in row
    assert 'value="me"' in row  # nobody's: "Take" is offered
    # The team's members by name, none selected; nobody from another team.
    assert f'<option value="{coordinator.pk}">{coordinator.username}</option>' in row
    assert f'<option value="{clinician.pk}">{clinician.username}</option>' in row
    assert row.count("<option") == 3
    assert " selected" not in row

    # Assigned in place (htmx): the row comes back alone, with the same words and links,
    # its Assign list open (focus stays on its button) and a sentence for the status region.
    assigned = browser_of(coordinator).post(
        assign_url,
        {"assigned_to": str(clinician.pk), "via": "assign"},
        headers={"HX-Request": "true"},
    )
    fragment = assigned.content.decode()
    assert fragment.lstrip().startswith(
        f'<tr class="nhsuk-table__row" id="row-{episode.pk}" role="row"'
        f' data-news="{name} is assigned to {clinician.username}.">'
    )
    assert f'<a href="{episode_url}" id="open-{episode.pk}">{name}</a>' in fragment
    assert f'<option value="{clinician.pk}" selected>{clinician.username}</option>' in fragment
    assert f'<details class="cf-assign-more" id="assign-more-{episode.pk}" open>' in fragment
    with at_day(3):
        html = browser_of(clinician).get("/queues/mine/").content.decode()
    row = _row_of(html, episode.pk)
    assert f'id="who-{episode.pk}">{clinician.username}</span> <span class="cf-small">(you)' in row
    assert f'<option value="{clinician.pk}" selected>{clinician.username}</option>' in row
    assert row.count(" selected") == 1
    assert 'value="me"' not in row  # the clinician's own: no "Take"


def test_a_queue_row_escapes_what_it_prints(browser_of, coordinator, team):
    from tests.factories import PatientFactory  # noqa: PLC0415

    marked = new_episode(
        PatientFactory(care_team=team, given_name="<b>Ann</b>", family_name="O'Neil"),
        coordinator,
    )
    with at_day(3):
        html = browser_of(coordinator).get("/queues/unassigned/").content.decode()
    row = _row_of(html, marked.pk)
    assert "<b>" not in row
    # The link, the list's label, Take's and Assign's names, Save's hidden words.
    assert row.count("&lt;b&gt;Ann&lt;/b&gt; O&#39;Neil") == 5


def test_take_and_assign_in_place(browser_of, coordinator, clinician, other_coordinator, episode):
    client = browser_of(coordinator)
    url = reverse("workspace:assign", args=[episode.pk])
    taken = client.post(url, {"assigned_to": "me"}, headers={"HX-Request": "true"})
    assert taken.status_code == 200
    assert taken.content.decode().lstrip().startswith("<tr")
    assert Episode.objects.get(pk=episode.pk).assigned_to == coordinator
    client.post(url, {"assigned_to": str(clinician.pk)}, headers={"HX-Request": "true"})
    assert Episode.objects.get(pk=episode.pk).assigned_to == clinician
    outsider = client.post(
        url, {"assigned_to": str(other_coordinator.pk)}, headers={"HX-Request": "true"}
    )
    assert outsider.status_code == 400
    # Jinja2 renders the row: its apostrophe is &#39; (Django's is &#x27;), so unescape.
    assert "Not a member of the episode's care team." in unescape(outsider.content.decode())
    huge = client.post(url, {"assigned_to": "9" * 30}, headers={"HX-Request": "true"})
    assert huge.status_code == 400
    assert Episode.objects.get(pk=episode.pk).assigned_to == clinician


def test_another_teams_episode_is_a_404_and_the_look_is_audited(
    browser_of, other_coordinator, coordinator, episode
):
    response = browser_of(other_coordinator).get(f"/episodes/{episode.pk}/")
    assert response.status_code == 404
    post = browser_of(other_coordinator).post(f"/episodes/{episode.pk}/transitions/resolve/", {})
    assert post.status_code == 404
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"
    denied = AccessRecord.objects.filter(user=other_coordinator, episode_id=episode.pk)
    assert {r.status_code for r in denied} == {404}
    browser_of(coordinator).get(f"/episodes/{episode.pk}/")
    seen = AccessRecord.objects.get(user=coordinator, episode_id=episode.pk)
    assert (seen.action, seen.status_code, seen.patient_id) == (
        "read",
        200,
        episode.patient_id,
    )


def test_the_episode_page_shows_a_blocked_transition_with_its_rule_and_date(
    browser_of, coordinator, episode
):
    with at_day(10):
        html = browser_of(coordinator).get(f"/episodes/{episode.pk}/").content.decode()
    assert episode.patient.display_name in html
    assert "America/New_York" in html
    assert "● current state" in html
    assert 'data-state="conservative_care"' in html
    assert "Blocked" in html
    assert "CC-1" in html
    assert "opens on 2026-11-12" in html  # ONSET 2026-10-01 + 42 days


def test_a_refused_transition_is_a_422_listing_the_rules_and_changes_nothing(
    browser_of, coordinator, episode
):
    with at_day(10):
        response = browser_of(coordinator).post(
            f"/episodes/{episode.pk}/transitions/confirm_imaging_eligibility/",
            {"version": episode.version},
        )
    html = response.content.decode()
    assert response.status_code == 422
    assert "refused by the pathway" in html
    assert "CC-1" in html
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"


def test_a_stale_page_is_a_409_that_reloads_and_says_what_changed(
    browser_of, coordinator, clinician, episode
):
    from django.utils import timezone  # noqa: PLC0415

    with at_day(50):
        seen_at = timezone.now().isoformat()
        old_version = Episode.objects.get(pk=episode.pk).version
    with at_day(50) as traveller:
        traveller.shift(60)
        services.episode_transition(
            episode_id=episode.pk, name="confirm_imaging_eligibility", by=clinician
        )
        traveller.shift(60)
        response = browser_of(coordinator).post(
            f"/episodes/{episode.pk}/transitions/resolve/",
            {"version": old_version, "seen_at": seen_at},
        )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this episode" in html
    assert "Confirm imaging eligibility: Conservative care → Imaging eligible — clin-a" in html
    assert Episode.objects.get(pk=episode.pk).state == "imaging_eligible"


def test_a_clinical_transition_by_a_coordinator_is_refused_in_a_sentence(
    browser_of, coordinator, episode
):
    services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
    episode = Episode.objects.get(pk=episode.pk)
    response = browser_of(coordinator).post(
        f"/episodes/{episode.pk}/transitions/clear_escalation/", {"version": episode.version}
    )
    assert response.status_code == 403
    assert "only a clinician" in response.content.decode()


def test_invalid_input_is_a_400_naming_the_field_and_changes_nothing(
    browser_of, coordinator, episode
):
    response = browser_of(coordinator).post(
        f"/episodes/{episode.pk}/transitions/close/", {"version": episode.version}
    )
    assert response.status_code == 400
    assert "Reason" in response.content.decode()
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"


def test_red_flag_raise_rule_out_and_clear(browser_of, coordinator, clinician, episode):
    url = f"/episodes/{episode.pk}/"
    raised = browser_of(coordinator).post(f"{url}red-flags/", {"sign": "fever", "note": "38.9"})
    assert raised.status_code == 302
    episode = Episode.objects.get(pk=episode.pk)
    assert episode.state == "urgent_escalation"
    flag = episode.red_flags.get()
    ruled = browser_of(clinician).post(
        f"{url}red-flags/{flag.pk}/rule-out/", {"note": "viral, settled"}
    )
    assert ruled.status_code == 302
    cleared = browser_of(clinician).post(
        f"{url}transitions/clear_escalation/",
        {"version": Episode.objects.get(pk=episode.pk).version, "note": "false alarm"},
    )
    assert cleared.status_code == 302
    assert Episode.objects.get(pk=episode.pk).state == "conservative_care"
    page = browser_of(clinician).get(url).content.decode()
    assert "Red flag ruled out: Fever — viral, settled" in page


def test_facts_imaging_care_plan_and_outreach_are_recorded(browser_of, coordinator, episode):
    client = browser_of(coordinator)
    url = f"/episodes/{episode.pk}/"
    with at_day(20):
        assert (
            client.post(
                f"{url}assessments/", {"radicular_pain": "true", "disabling_pain": "true"}
            ).status_code
            == 302
        )
        assert (
            client.post(
                f"{url}imaging/",
                {"performed_on": "2026-10-20", "nerve_root_compression": "true", "level": "L5-S1"},
            ).status_code
            == 302
        )
        assert client.post(f"{url}care-plan/", {"item": "pregabalin"}).status_code == 302
        assert (
            client.post(f"{url}outreach/", {"kind": "no_answer", "note": "tried twice"}).status_code
            == 302
        )
        bad = client.post(f"{url}imaging/", {"performed_on": "2099-01-01"})
        page = client.get(url).content.decode()
    episode = Episode.objects.get(pk=episode.pk)
    assert episode.facts["disabling_pain"] is True
    assert episode.imaging.count() == 1
    assert bad.status_code == 400
    assert "Flag CC-3" in page
    assert "Called, no answer: tried twice" in page
    assert OutreachNote.objects.filter(episode=episode).count() == 1


def test_enrol_lands_on_the_new_episode_with_its_reminders(browser_of, coordinator):
    form = {
        "given_name": "Iris",
        "family_name": "Enrolled",
        "birth_date": "1980-02-03",
        "email": "iris@example.org",
        "timezone": "Europe/London",
        "preferred_channel": "email",
        "language": "en",
        "symptom_onset": ONSET.isoformat(),
        "radicular_pain": "true",
    }
    with at_day(3):
        response = browser_of(coordinator).post("/enrol/", form)
        assert response.status_code == 302
        page = browser_of(coordinator).get(response["Location"]).content.decode()
    episode = Episode.objects.get(patient__family_name="Enrolled")
    assert response["Location"].startswith(f"/episodes/{episode.pk}/")
    assert episode.facts == {"radicular_pain": True}
    assert "Iris Enrolled" in page
    assert "2-week check-in" in page


def test_a_bad_enrolment_says_why_and_creates_nothing(browser_of, coordinator):
    form = {
        "given_name": "Iris",
        "family_name": "Bad",
        "birth_date": "1980-02-03",
        "timezone": "Europe/London",
        "symptom_onset": "2999-01-01",
    }
    response = browser_of(coordinator).post("/enrol/", form)
    assert response.status_code == 400
    assert "Date the symptoms began" in response.content.decode()
    assert not Patient.objects.filter(family_name="Bad").exists()


def test_the_pathway_picture_names_every_transition_and_its_rules(client, db):
    svg = client.get("/pathway.svg")
    body = svg.content.decode()
    assert svg["Content-Type"] == "image/svg+xml"
    # In the words the page uses, never the code names.
    for words in (
        "Escalate",
        "Clear the escalation",
        "Confirm imaging eligibility",
        "Schedule the injection",
        "Refer to a specialist",
        "Begin surgical review",
        "Decline surgery",
        "Plan surgery",
        "Declare refractory",
        "Epidural steroid",
    ):
        assert f">{words}" in body, words
    assert "Resolve → resolved, Close → closed" in body
    assert "_" not in re.sub(r"<[^>]*>", "", body)  # no snake_case in any text the picture shows
    for rule in ("CC-1", "IM-1", "ESI-1", "ESI-2", "SX-1", "SX-4", "RX-1", "URG-1"):
        assert rule in body
    assert "style=" not in body
