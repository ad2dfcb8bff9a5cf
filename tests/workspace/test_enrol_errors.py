"""A refused enrolment says what to correct in a coordinator's words, in form order.

The error summary at the top links each field in error, in the order the form asks them
(https://service-manual.nhs.uk/design-system/components/error-summary); each message is
the NHS.UK design system's wording, never the data model's; nothing is written.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from episodes.models import Episode, Patient
from tests.clock import at_day
from tests.workspace.helpers import read

pytestmark = pytest.mark.django_db

# Errors in four fields, sent in an order unlike the form's; the date of birth is in the
# future and the onset date lacks its day.
REFUSED = {
    "symptom_onset-day": "",
    "symptom_onset-month": "9",
    "symptom_onset-year": "2026",
    "email": "not-an-address",
    "birth_date-day": "2",
    "birth_date-month": "3",
    "birth_date-year": "2030",
    "given_name": "",
    "family_name": "Refused",
    "timezone": "Europe/London",
}
IN_FORM_ORDER = [
    ("#enrol-given_name", "Enter the patient's given name"),
    ("#enrol-birth_date-day", "Date of birth must be in the past"),
    ("#enrol-email", "Enter an email address in the correct format, like name@example.com"),
    (
        "#enrol-symptom_onset-day",
        "Enter a date the symptoms began that includes a day, month and year",
    ),
]
SMS_NEEDS = (
    "To send reminders by SMS, enter a mobile phone number and tick that the patient agrees"
    " to text messages"
)
CARE_BEFORE_ONSET = (
    "The date conservative care began must be the same as or after the date the symptoms began"
)
DATA_MODEL_WORDS = (
    "Date has wrong format",
    "This field may not be blank",
    "This field is required",
    "Enter a valid email address",
    "Cannot be in the future",
)


def post(user, form):
    client = Client()
    client.force_login(user)
    with at_day(3):
        return client.post("/enrol/", form)


def test_the_summary_links_each_field_in_form_order_in_nhs_words(coordinator):
    response = post(coordinator, REFUSED)
    html = unescape(response.content.decode())
    page = read(html)
    assert response.status_code == 400
    assert page.summary == IN_FORM_ORDER
    for _href, words in IN_FORM_ORDER:
        assert html.count(words) == 2  # in the summary and beside its field
    for words in DATA_MODEL_WORDS:
        assert words not in html
    assert "<title>Error: Enrol a patient" in html
    # Each link's target is on the page.
    ids = {i.get("id") for i in page.inputs}
    assert {href.removeprefix("#") for href, _ in IN_FORM_ORDER} <= ids


def test_a_refused_enrolment_writes_nothing_and_keeps_what_was_typed(coordinator):
    response = post(coordinator, REFUSED)
    typed = {i["name"]: i.get("value", "") for i in read(response.content.decode()).inputs}
    assert not Patient.objects.exists()
    assert not Episode.objects.exists()
    assert typed["family_name"] == "Refused"
    assert (typed["birth_date-day"], typed["birth_date-month"], typed["birth_date-year"]) == (
        "2",
        "3",
        "2030",
    )
    assert typed["symptom_onset-day"] == ""
    assert typed["symptom_onset-month"] == "9"


def test_nothing_entered_asks_for_each_required_answer(coordinator):
    page = read(unescape(post(coordinator, {}).content.decode()))
    assert page.summary == [
        ("#enrol-given_name", "Enter the patient's given name"),
        ("#enrol-family_name", "Enter the patient's family name"),
        ("#enrol-birth_date-day", "Enter the patient's date of birth"),
        ("#enrol-symptom_onset-day", "Enter the date the symptoms began"),
    ]


def test_a_date_that_is_not_one_and_a_short_year_say_so(coordinator):
    form = {
        **REFUSED,
        "given_name": "Iris",
        "email": "",
        "birth_date-day": "31",
        "birth_date-month": "2",
        "birth_date-year": "1980",
        "symptom_onset-day": "1",
        "symptom_onset-year": "26",
    }
    page = read(unescape(post(coordinator, form).content.decode()))
    assert page.summary == [
        ("#enrol-birth_date-day", "Date of birth must be a real date"),
        ("#enrol-symptom_onset-year", "Year must include 4 numbers"),
    ]
    errored = [i["id"] for i in page.inputs if "nhsuk-input--error" in i.get("class", "")]
    assert errored == [
        "enrol-birth_date-day",
        "enrol-birth_date-month",
        "enrol-birth_date-year",
        "enrol-symptom_onset-year",
    ]


def test_a_service_refusal_is_worded_and_linked_too(coordinator):
    form = {
        "given_name": "Iris",
        "family_name": "Refused",
        "birth_date-day": "2",
        "birth_date-month": "3",
        "birth_date-year": "1980",
        "preferred_channel": "sms",
        "symptom_onset-day": "1",
        "symptom_onset-month": "10",
        "symptom_onset-year": "2026",
        "conservative_care_start-day": "30",
        "conservative_care_start-month": "9",
        "conservative_care_start-year": "2026",
    }
    response = post(coordinator, form)
    page = read(unescape(response.content.decode()))
    assert response.status_code == 400
    # The SMS check is the patient service's, the dates' the episode service's: the first
    # refusal stops the enrolment.
    assert page.summary == [
        ("#enrol-preferred_channel", SMS_NEEDS),
    ]
    fixed = {**form, "preferred_channel": "email", "email": "iris@example.org"}
    page = read(unescape(post(coordinator, fixed).content.decode()))
    assert page.summary == [
        ("#enrol-conservative_care_start-day", CARE_BEFORE_ONSET),
    ]
    assert not Patient.objects.exists()


def test_hostile_dates_are_refused_in_words_never_a_500(coordinator):
    huge = "9" * 5000
    for sent in (
        {"birth_date-day": "9999999999", "birth_date-month": "1", "birth_date-year": "1980"},
        {"birth_date-day": "1", "birth_date-month": huge, "birth_date-year": "1980"},
        {"birth_date": f"1980-{huge}-1"},
        {"birth_date": "tomorrow"},
        {"birth_date-day": "-1", "birth_date-month": "-2", "birth_date-year": "1980"},
    ):
        others = {k: v for k, v in REFUSED.items() if not k.startswith("birth_date")}
        response = post(coordinator, {**others, "given_name": "Iris", "email": "", **sent})
        assert response.status_code == 400, sent
        summary = read(unescape(response.content.decode())).summary
        assert summary[0] == ("#enrol-birth_date-day", "Date of birth must be a real date"), sent
    assert not Patient.objects.exists()
