"""No metric label carries an id, a name, a number, a path or any other unbounded value.

Every code path that counts is exercised with patients whose details are distinctive
(a delivery run, failed sends, refused webhooks, a cache with Redis gone, requests to
paths carrying ids and identifying searches); then the whole exposition is scraped and
every label value checked against its label's allow-list, and the text searched for the
patients' details.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from twilio.base.exceptions import TwilioRestException

from config.celery_app import app as celery_app
from episodes.models import Channel
from infra.cache import FailOpenRedisCache
from infra.metrics import METHODS, error_code
from notifications.channels.sms import _rest_error
from notifications.models import ReminderStatus
from tests.factories import EpisodeFactory, RedFlagFactory, bulk_episodes
from tests.ops.helpers import METRICS_TOKEN, scrape

pytestmark = pytest.mark.django_db(transaction=True)

GIVEN, FAMILY = "Zebulon", "Quixotic-Marchbanks"
PHONE, EMAIL, BIRTH = "+15557654321", "zebulon.q@example.org", date(1953, 4, 17)


def url_names(patterns=None, namespace: str = "") -> set[str]:
    """Every view name the URLconf can resolve to (``namespace:name``)."""
    names = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def allowed() -> dict[str, object]:
    """Each label's allowed values: a set, or a pattern the whole value must match."""
    return {
        "route": url_names() | {"unmatched", "unnamed"},
        "method": METHODS | {"other"},
        "status": re.compile(r"[1-5]\d\d|sending|failed|skipped"),
        "channel": {c.value for c in Channel},
        "outcome": {"sent", "reconciled", "transient_error", "permanent_error"},
        "kind": {"transient", "permanent"},
        "code": re.compile(r"none|\d{3,6}"),
        "result": {"found", "not_found", "error"},
        "webhook": {"twilio_status", "twilio_inbound", "postmark_tracking"},
        "reason": {"signature", "malformed"},
        "operation": {"add", "get", "set", "incr", "hit", "delete", "get_many"},
        "task": set(celery_app.tasks),
        "state": {"success", "failure", "retry"},
        "acted": {"yes", "no"},
        "rule": re.compile(r"[A-Z]{2,4}-\d{1,2}|other"),
        "job": set(settings.CELERY_BEAT_SCHEDULE),
        "le": re.compile(r"[0-9.]+|\+Inf"),
        # prometheus-client's own process metrics (python_info, python_gc_*).
        "generation": {"0", "1", "2"},
        "implementation": {"CPython"},
        "major": re.compile(r"\d+"),
        "minor": re.compile(r"\d+"),
        "patchlevel": re.compile(r"\d+"),
        "version": re.compile(r"\d+\.\d+\.\d+"),
    }


def exercise_every_counter(client, team, coordinator, clinician):
    episode = EpisodeFactory(
        patient__care_team=team,
        patient__given_name=GIVEN,
        patient__family_name=FAMILY,
        patient__phone=PHONE,
        patient__email=EMAIL,
        patient__birth_date=BIRTH,
        by=coordinator,
        at=timezone.now() - timedelta(days=20),
    )
    RedFlagFactory(episode=episode, sign="saddle_anesthesia", by=clinician, at=timezone.now())
    bulk_episodes(team, coordinator, 30)
    call_command("dispatch_reminders", stdout=open("/dev/null", "w"))  # noqa: PTH123, SIM115
    client.force_login(coordinator)
    client.get(f"/episodes/{episode.pk}/")
    client.get(f"/api/episodes/{episode.pk}/")
    client.get(f"/api/patients/_search?q={FAMILY}")
    client.get(f"/fhir/Patient?name={FAMILY}&birthdate={BIRTH}")
    client.get(f"/no-such-page/{PHONE}/")
    client.post("/webhooks/twilio/status/", {"From": PHONE})
    client.post("/webhooks/twilio/inbound/", {"From": PHONE, "Body": FAMILY})
    cache = FailOpenRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}}
    )
    cache.get(f"patient:{PHONE}")


def test_every_label_value_is_bounded_and_no_patient_detail_is_exposed(
    client, settings, team, coordinator, clinician
):
    settings.CAREFLOW_METRICS_TOKEN = METRICS_TOKEN
    exercise_every_counter(client, team, coordinator, clinician)
    client.logout()
    text = scrape(client)

    rules = allowed()
    unexpected = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for label, value in sample.labels.items():
                allow = rules.get(label)
                ok = (
                    value in allow
                    if isinstance(allow, set | frozenset)
                    else allow is not None and allow.fullmatch(value)
                )
                if not ok:
                    unexpected.append(f"{sample.name}{{{label}={value!r}}}")
    assert unexpected == []
    for detail in (GIVEN, FAMILY, PHONE, PHONE[1:], EMAIL, BIRTH.isoformat(), "example.org"):
        assert detail not in text
    # The paths exercised were counted, under their names.
    assert 'careflow_reminder_sends_total{channel="' in text
    assert 'careflow_webhook_rejections_total{reason="signature",webhook="twilio_status"}' in text
    assert 'careflow_cache_fail_open_total{operation="get"}' in text
    assert 'route="unmatched"' in text


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            str(_rest_error(TwilioRestException(400, "uri", msg=f"bad {PHONE}", code=21211))),
            "21211",
        ),
        (str(_rest_error(TwilioRestException(503, "uri", msg="down"))), "503"),
        ("ESP error (HTTP 422)", "422"),
        ("SMTP 550", "550"),
        (f"SMTP recipient refused (550, 551) {EMAIL}", "none"),
        ("Twilio unreachable: ConnectionError", "none"),
        ("unexpected KeyError", "none"),
    ],
)
def test_a_provider_error_code_is_digits_or_none(message, code):
    assert error_code(message) == code


def test_reminder_statuses_exported_are_the_model_s():
    assert {"scheduled", "sending", "failed", "skipped"} <= set(ReminderStatus.values)
