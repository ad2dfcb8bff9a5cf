"""The episode page costs a fixed number of queries, however much the episode holds.

Measured: 27 with everything the page can show (flags raised and ruled out by named users,
a patient's report to review, an unread reply, imaging, plan items, outreach, a
correction, an assignee) — the session, the user, the audit, the episode and what it
prefetches, the care team, the timeline's sources, the reminders. Lower it when you cut a
query, never raise it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes import services
from notifications import services as notifications
from notifications.models import Reminder
from notifications.providers.events import sms_inbound_record
from tests.clock import ONSET, at_day
from tests.factories import PatientFactory, UserFactory, new_episode
from tests.workspace.helpers import signed_in

EPISODE_PAGE_BUDGET = 27


def fill(episode, coordinator, clinician, n: int) -> None:
    """``n`` of each thing the page lists, by users the page names."""
    for i in range(n):
        visitor = UserFactory(username=f"visitor-{episode.pk}-{i}", first_name=f"V{i}")
        with at_day(5 + i):
            flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=visitor)
            services.red_flag_rule_out(
                flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="settled"
            )
            services.red_flag_raise(episode_id=episode.pk, sign="history_of_cancer", by=coordinator)
            services.imaging_record(episode_id=episode.pk, by=clinician, performed_on=ONSET)
            services.care_plan_item_add(episode_id=episode.pk, by=visitor, item="nsaid")
            sms_inbound_record(
                token=uuid.uuid4().hex,
                message_sid=f"SM{uuid.uuid4().hex}",
                from_number=episode.patient.phone,
                body=f"reply {i}",
            )
    # The first check-in raises the flag; the second reports it again: a report to review.
    for milestone in ("2_weeks", "6_weeks"):
        reminder = Reminder.objects.get(episode=episode, milestone=milestone, audience="patient")
        with at_day(14):
            notifications.checkin_submit(
                reminder_id=reminder.pk, overall="worse", disabling_pain=False, symptoms=["fever"]
            )
    with at_day(14):
        services.episode_update(
            episode_id=episode.pk,
            by=coordinator,
            fields={"symptom_onset": ONSET - timedelta(days=5), "assigned_to": clinician},
            reason="GP letter",
        )


def queries_for(client, episode) -> int:
    with at_day(15), CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/episodes/{episode.pk}/", {"timeline": "all"})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_episode_page_costs_the_same_with_one_or_many_of_everything(
    team, coordinator, clinician, django_assert_max_num_queries
):
    small = new_episode(PatientFactory(care_team=team), coordinator, radicular_pain=True)
    large = new_episode(
        PatientFactory(care_team=team, phone="+15557654321"), coordinator, radicular_pain=True
    )
    fill(small, coordinator, clinician, 1)
    fill(large, coordinator, clinician, 4)
    client = signed_in(coordinator)
    queries_for(client, small)  # the session's first read of the user
    assert queries_for(client, small) == queries_for(client, large)
    with at_day(15):
        page = client.get(f"/episodes/{large.pk}/", {"timeline": "all"}).content.decode()
    assert page.count('class="cf-flag cf-flag--active" id="form-review-') == 1
    assert page.count('class="cf-reply-item"') == 4
    with at_day(15), django_assert_max_num_queries(EPISODE_PAGE_BUDGET):
        client.get(f"/episodes/{large.pk}/", {"timeline": "all"})
