"""Generated enrolment Bundles: whatever a client sends, no 500, and a refusal writes nothing."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from episodes.models import Patient
from tests.clock import at_day
from tests.interop.helpers import counts, enrolment, post

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

# Paths into a valid enrolment Bundle where a generated value replaces what is there.
PATHS = (
    ("type",),
    ("entry",),
    ("entry", 0, "fullUrl"),
    ("entry", 0, "request"),
    ("entry", 0, "resource", "birthDate"),
    ("entry", 0, "resource", "name"),
    ("entry", 0, "resource", "telecom"),
    ("entry", 0, "resource", "extension"),
    ("entry", 0, "resource", "communication"),
    ("entry", 0, "resource", "managingOrganization"),
    ("entry", 1, "resource", "onsetDateTime"),
    ("entry", 1, "resource", "subject"),
    ("entry", 1, "resource", "code"),
    ("entry", 1, "resource", "evidence"),
    ("entry", 1, "resource", "extension"),
)


def _replace(body: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(PATHS), value=json_values)
def test_mutated_bundles_never_500_and_refusals_write_nothing(coordinator, path, value):
    before = counts()
    with at_day(10):
        response = post(coordinator, _replace(enrolment(), path, value))
    assert response.status_code in (200, 400), response.content
    body = response.json()
    if response.status_code == 400:
        assert body["resourceType"] == "OperationOutcome"
        assert counts() == before
    else:
        assert body["type"] == "transaction-response"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values)
def test_any_json_body_is_a_400_operation_outcome(coordinator, body):
    before = counts()
    response = post(coordinator, body)
    assert response.status_code == 400, response.content
    assert response.json()["resourceType"] == "OperationOutcome"
    assert counts() == before


def test_a_bundle_of_thousands_of_entries_is_refused_before_they_are_validated(
    coordinator, monkeypatch
):
    from interop import enrol as enrolment_module  # noqa: PLC0415

    def never(*_args, **_kwargs):
        msg = "the entries were validated"
        raise AssertionError(msg)

    body = enrolment()
    body["entry"] = body["entry"] * 500  # under the body-size limit: refused by its count
    monkeypatch.setattr(enrolment_module.Bundle, "model_validate", never)
    with at_day(10):
        response = post(coordinator, body)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry"]
    assert "at most 10 entries" in issue["diagnostics"]
    assert not Patient.objects.exists()


def test_a_bundle_beyond_the_body_size_limit_is_refused_as_an_operation_outcome(coordinator):
    body = enrolment()
    body["entry"] = body["entry"] * 6_000
    with at_day(10):
        response = post(coordinator, body)
    assert response.status_code in (400, 413)
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not Patient.objects.exists()
