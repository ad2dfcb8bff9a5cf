"""Run as a process by tests/config/test_sentry.py: one failing request and one error log line.

With ``SENTRY_DSN`` naming the test's local server, the settings start the SDK
(config.settings.base); a view that raises with a patient's details in its message, its
locals, the request body, the query string, the cookies and the headers, and an error
logged with them as arguments, are each reported; then the SDK flushes and exits.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from wsgiref.util import setup_testing_defaults

import django
from django.views.decorators.csrf import csrf_exempt

PATIENT = {
    "given_name": "Zebulon",
    "family_name": "Quixotic-Marchbanks",
    "birth_date": "1953-04-17",
    "phone": "+15557654321",
    "email": "zebulon.q@example.org",
    "note": "numbness in the saddle area since Tuesday",
}
TOKEN = "9f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99"  # noqa: S105 - a fake API token, to be scrubbed


@csrf_exempt
def boom(request, token):
    body = json.loads(request.body)
    patient_name = f"{body['given_name']} {body['family_name']}"
    msg = f"cannot enrol {patient_name} born {body['birth_date']} ({body['phone']})"
    raise ValueError(msg)


urlpatterns = []


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    import sentry_sdk  # noqa: PLC0415 - after the settings started it
    from django.core.wsgi import get_wsgi_application  # noqa: PLC0415
    from django.test import override_settings  # noqa: PLC0415
    from django.urls import path  # noqa: PLC0415

    urlpatterns.append(path("enrol/<str:token>/", boom))
    body = json.dumps(PATIENT).encode()
    query = f"name={PATIENT['family_name']}&birthdate={PATIENT['birth_date']}"
    # Through the WSGI application, as gunicorn calls it: Sentry's Django integration
    # reads the request (URL, query string, headers, cookies) where the WSGI call enters.
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/enrol/{TOKEN}/",
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Token {TOKEN}",
        "HTTP_COOKIE": f"sessionid={TOKEN}; patient={PATIENT['email']}",
        "HTTP_X_PATIENT_PHONE": PATIENT["phone"],
        "HTTP_X_REQUEST_ID": "5b7a1c7e9f0d4b4c8a3e2d1f0a9b8c7d",
        "REMOTE_ADDR": "10.1.2.3",
    }
    setup_testing_defaults(environ)
    statuses = []
    with override_settings(ROOT_URLCONF=__name__):
        get_wsgi_application()(environ, lambda status, _headers: statuses.append(status))
    logging.getLogger("episodes").error(
        "lookup failed for %s %s", PATIENT["email"], PATIENT["note"]
    )
    sentry_sdk.flush(timeout=10)
    sys.stdout.write(f"status={statuses[0].split()[0]}\n")


if __name__ == "__main__":
    main()
