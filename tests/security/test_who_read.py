"""Who read a patient's record, when, from where: a page, a streamed CSV and the API.

For a privacy officer (``api.view_accessrecord``) and nobody else.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from api.access_log import EXPORT_BATCH
from api.models import AccessRecord
from tests.clients import client_for


@pytest.fixture
def officer(db):
    user = get_user_model().objects.create_user("privacy-officer", password="pw-for-tests")
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_accessrecord"))
    return user


def _browser(user) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(user)
    return client


def _records(patient_id: int, count: int, path: str = "/api/patients/1/") -> None:
    AccessRecord.objects.bulk_create(
        AccessRecord(
            username=f"reader-{n}", action="read", method="GET", path=path, status_code=200,
            patient_id=patient_id, address="198.51.100.7",
        )
        for n in range(count)
    )  # fmt: skip


def test_every_request_about_a_patient_records_where_it_came_from(coordinator, patient):
    client = client_for(coordinator)
    client.get(f"/api/patients/{patient.pk}/", REMOTE_ADDR="192.0.2.44")
    assert list(AccessRecord.objects.values_list("address", flat=True)) == ["192.0.2.44"]


def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(coordinator, patient, settings):
    settings.CAREFLOW_TRUSTED_PROXIES = ["10.0.0.0/8"]
    client_for(coordinator).get(
        f"/api/patients/{patient.pk}/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="192.0.2.45"
    )
    assert list(AccessRecord.objects.values_list("address", flat=True)) == ["192.0.2.45"]


def test_the_officer_pages_through_every_record_newest_first(officer, patient):
    _records(patient.pk, 120)
    client = _browser(officer)
    seen: list[str] = []
    url = f"/privacy/patients/{patient.pk}/access/"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages += 1
        rows = response.context["rows"]
        seen.extend(row["username"] for row in rows)
        older = response.context["older"]
        url = f"/privacy/patients/{patient.pk}/access/{older}" if older else ""
    assert pages == 3
    assert seen == [f"reader-{n}" for n in reversed(range(120))]
    page = _browser(officer).get(f"/privacy/patients/{patient.pk}/access/")
    assert "198.51.100.7" in page.content.decode()
    assert patient.display_name in page.content.decode()


def test_the_officers_look_is_itself_recorded(officer, patient):
    _browser(officer).get(f"/privacy/patients/{patient.pk}/access/")
    record = AccessRecord.objects.get(username="privacy-officer")
    assert (record.patient_id, record.action, record.address) == (patient.pk, "read", "203.0.113.9")


def test_nobody_else_sees_it(coordinator, clinician, patient):
    _records(patient.pk, 3)
    for user in (coordinator, clinician):
        assert _browser(user).get(f"/privacy/patients/{patient.pk}/access/").status_code == 403
        assert _browser(user).get(f"/privacy/patients/{patient.pk}/access.csv").status_code == 403
        assert _browser(user).get("/privacy/access/").status_code == 403
        response = client_for(user).get(f"/api/patients/{patient.pk}/access-records/")
        assert response.status_code == 403
    anonymous = Client().get(f"/privacy/patients/{patient.pk}/access/")
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def test_the_csv_streams_every_record_with_formulas_defused(officer, patient):
    _records(patient.pk, EXPORT_BATCH + 5, path="=HYPERLINK(1)")
    response = _browser(officer).get(f"/privacy/patients/{patient.pk}/access.csv")
    assert response.status_code == 200
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "at", "username"]
    readers = [row for row in rows[1:] if row[2].startswith("reader-")]
    assert len(readers) == EXPORT_BATCH + 5
    assert {row[6] for row in readers} == {"'=HYPERLINK(1)"}
    assert len({row[0] for row in readers}) == EXPORT_BATCH + 5
    # The download is a read of the patient's record too, recorded before it streams.
    assert [row[2] for row in rows[1:] if not row[2].startswith("reader-")] == ["privacy-officer"]


def test_the_form_finds_a_patient_by_number_and_refuses_anything_else(officer, patient):
    client = _browser(officer)
    found = client.get("/privacy/access/", {"patient": str(patient.pk)})
    assert found.status_code == 302
    assert found["Location"] == f"/privacy/patients/{patient.pk}/access/"
    for bad in ("abc", "²", "0", "-4"):
        assert client.get("/privacy/access/", {"patient": bad}).status_code == 400
    assert client.get("/privacy/patients/999999/access/").status_code == 404
    stale = client.get(f"/privacy/patients/{patient.pk}/access/", {"after": "nonsense~x"})
    assert stale.status_code == 200
    assert stale.context["note"]


def test_the_api_pages_for_the_officer(officer, patient):
    _records(patient.pk, 60)
    client = client_for(officer)
    first = client.get(f"/api/patients/{patient.pk}/access-records/")
    assert first.status_code == 200
    assert len(first.json()["results"]) == 50
    second = client.get(first.json()["next"])
    assert [r["username"] for r in second.json()["results"]] == [
        f"reader-{n}" for n in reversed(range(10))
    ]
    assert second.json()["next"] is None
    assert client.get(f"/api/patients/{patient.pk}/access-records/?after=x").status_code == 400
    assert client.get("/api/patients/999999/access-records/").status_code == 404
