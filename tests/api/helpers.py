"""What the API tests share with the other web tests: queue names, a patient, the actors.

The authorisation matrix (``ACTORS``, ``EXPECTED``, ``actor``) is the JSON API's
(tests/api/test_authorisation_matrix.py) and the FHIR facade's alike.
"""

from __future__ import annotations

QUEUE_NAMES = [
    "urgent",
    "overdue",
    "due_soon",
    "reassessment_due",
    "imaging_eligible",
    "esi",
    "specialist_referral",
    "surgical_review",
    "delivery_failures",
    "unread_replies",
    "unassigned",
    "mine",
]

ANA = {
    "given_name": "Ana",
    "family_name": "Ruiz",
    "birth_date": "1968-04-02",
    "email": "ana@example.org",
    "phone": "+15551230000",
    "timezone": "America/New_York",
    "preferred_channel": "sms",
    "sms_consent": True,
    "language": "es",
}

ACTORS = ("coordinator", "clinician", "other_coordinator", "other_clinician", "superuser", None)
# What each actor gets for Team A's episode and patient.
EXPECTED = {
    "coordinator": 200,
    "clinician": 200,
    "other_coordinator": 404,
    "other_clinician": 404,
    "superuser": 200,
    None: 401,
}


def actor(request, name):
    return None if name is None else request.getfixturevalue(name)
