"""A refused enrolment in Chromium at a laptop's, a tablet's and a phone's width.

The error summary takes the focus and links each field in form order; a link puts the
focus in its field; the three-field dates fit; the page never scrolls sideways; axe-core
finds no serious or critical violation. Then the corrected form enrols.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from episodes.models import Patient
from tests.chromium import check_accessibility, sign_in

SIZES = {
    "laptop": {"width": 1366, "height": 768},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_a_refused_enrolment_reads_and_fits_at_every_size(
    new_page, live_server, team, coordinator, size
):
    page = new_page(SIZES[size])
    sign_in(page, live_server, coordinator)
    page.goto(f"{live_server.url}/enrol/")
    page.locator("#enrol-family_name").fill("Browser")
    page.locator("#enrol-birth_date-day").fill("31")
    page.locator("#enrol-birth_date-month").fill("2")
    page.locator("#enrol-birth_date-year").fill("1980")
    page.locator("#enrol-email").fill("not-an-address")
    page.locator("#enrol-symptom_onset-month").fill("9")
    page.get_by_role("button", name="Enrol").click()

    summary = page.locator(".nhsuk-error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "problem"
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == [
        "Enter the patient's given name",
        "Date of birth must be a real date",
        "Enter an email address in the correct format, like name@example.com",
        "Enter a date the symptoms began that includes a day, month and year",
    ]
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the page scrolls sideways"
    check_accessibility(page, f"enrol-errors-{size}")

    # The keyboard reaches the links from the summary; a link puts the focus in its field.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == links.first.inner_text()
    links.nth(3).press("Enter")
    assert page.evaluate("document.activeElement.id") == "enrol-symptom_onset-day"
    assert page.get_by_text("Date the symptoms began", exact=True).is_visible()
    assert not Patient.objects.exists()

    page.locator("#enrol-given_name").fill("Iris")
    page.locator("#enrol-birth_date-day").fill("28")
    page.locator("#enrol-email").fill("iris@example.org")
    today = timezone.localdate()
    page.locator("#enrol-symptom_onset-day").fill("1")
    page.locator("#enrol-symptom_onset-month").fill(str(today.month))
    page.locator("#enrol-symptom_onset-year").fill(str(today.year))
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(re.compile(r"done=enrolled"))
    patient = Patient.objects.get(family_name="Browser")
    assert (patient.birth_date.isoformat(), patient.timezone) == ("1980-02-28", team.timezone)
