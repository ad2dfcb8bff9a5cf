"""Every date the forms build is the three-field date input; its boxes become YYYY-MM-DD.

https://service-manual.nhs.uk/design-system/components/date-input: day, month and year,
each a labelled text box with a numeric keyboard. The services and the API see the date as
they always did: ``submitted`` gives the serializer ``YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.http import QueryDict
from django.test import Client

from api.serializers.inputs import (
    CarePlanItemInputSerializer,
    EpisodeCreateInputSerializer,
    ImagingInputSerializer,
    PatientCreateInputSerializer,
)
from episodes.models import Episode
from tests.clock import ONSET, at_day
from tests.workspace.helpers import read
from workspace.forms import build_fields, submitted

pytestmark = pytest.mark.django_db


def form(**fields: str) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(fields)
    return query


def test_the_three_boxes_become_the_iso_date_the_serializer_expects():
    sent = form(**{"birth_date-day": "2", "birth_date-month": "3", "birth_date-year": "1980"})
    assert submitted(PatientCreateInputSerializer, sent)["birth_date"] == "1980-03-02"
    # Empty boxes are no date: the serializer says it is missing, not malformed.
    empty = form(**{"birth_date-day": "", "birth_date-month": " ", "birth_date-year": ""})
    assert "birth_date" not in submitted(PatientCreateInputSerializer, empty)
    # A date that is not one goes on as typed, for the serializer to refuse.
    short = form(**{"birth_date-day": "2", "birth_date-month": "", "birth_date-year": "1980"})
    assert submitted(PatientCreateInputSerializer, short)["birth_date"] == "1980--2"


def test_every_date_field_of_the_forms_is_a_date_input():
    for serializer, name in (
        (PatientCreateInputSerializer, "birth_date"),
        (EpisodeCreateInputSerializer, "symptom_onset"),
        (EpisodeCreateInputSerializer, "conservative_care_start"),
        (ImagingInputSerializer, "performed_on"),
        (CarePlanItemInputSerializer, "started_on"),
        (CarePlanItemInputSerializer, "ended_on"),
    ):
        built = {f.name: f for f in build_fields(serializer, prefix="x", values={name: ONSET})}
        field = built[name]
        assert field.kind == "date"
        assert [(p.name, p.value, p.width) for p in field.parts] == [
            (f"{name}-day", "1", 2),
            (f"{name}-month", "10", 2),
            (f"{name}-year", "2026", 4),
        ]


def test_a_valid_three_field_date_enrols(coordinator):
    client = Client()
    client.force_login(coordinator)
    page = read(client.get("/enrol/").content.decode())
    names = [i.get("name") for i in page.inputs]
    for name in ("birth_date", "symptom_onset", "conservative_care_start"):
        assert [n for n in names if n and n.startswith(name)] == [
            f"{name}-day",
            f"{name}-month",
            f"{name}-year",
        ]
    assert not [i for i in page.inputs if i.get("type") == "date"]
    sent = {
        "given_name": "Iris",
        "family_name": "Threebox",
        "birth_date-day": "2",
        "birth_date-month": "3",
        "birth_date-year": "1980",
        "email": "iris@example.org",
        "symptom_onset-day": "1",
        "symptom_onset-month": "10",
        "symptom_onset-year": "2026",
        "conservative_care_start-day": "03",
        "conservative_care_start-month": "10",
        "conservative_care_start-year": "2026",
    }
    with at_day(3):
        response = client.post("/enrol/", sent)
    assert response.status_code == 302
    episode = Episode.objects.select_related("patient").get(patient__family_name="Threebox")
    assert episode.patient.birth_date == date(1980, 3, 2)
    assert episode.symptom_onset == ONSET
    assert episode.conservative_care_start == date(2026, 10, 3)
