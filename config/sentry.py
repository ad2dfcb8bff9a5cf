"""Optional error reports to Sentry (``SENTRY_DSN``), with patient data scrubbed before sending.

An event keeps what diagnoses a fault: the exception's type, the stack (files, functions,
lines, the code around them), the route, the release, the request id. It loses whatever
could name or reach a patient, wherever the SDK or an integration put it:

- exception messages (``ValueError("no phone for Jane Doe")``): the type stays, the text goes;
- local variables of every frame (``include_local_variables`` off, and removed here too);
- the request's body, cookies, query string and environment, and every header but a few
  technical ones; its URL becomes the route's pattern (``/check-in/{token}/``: no token, no
  id) and loses the query;
- the user: the id only (``send_default_pii`` stays off: no address, no username);
- log messages' arguments (the template stays, redacted), breadcrumbs' messages and data,
  ``extra`` (Celery's integration puts a task's arguments there) and any context but the
  runtime's, the OS's and the trace's.

Scrubbing by allow-list, not by a list of patient fields: a field added tomorrow is dropped
until someone decides it is safe. ``tests/config/test_sentry.py`` sends real events through
the SDK to a local HTTP server and searches what arrives.
https://docs.sentry.io/platforms/python/data-management/sensitive-data/
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from config.log_redaction import redact

KEPT_HEADERS = frozenset({"Content-Type", "Content-Length", "Accept", "X-Request-Id"})
KEPT_CONTEXTS = frozenset({"runtime", "os", "trace"})
SCRUBBED = "[scrubbed]"

Event = dict[str, Any]


def _frames(container: dict[str, Any] | None) -> None:
    for frame in ((container or {}).get("stacktrace") or {}).get("frames") or []:
        frame.pop("vars", None)


def _request(request: dict[str, Any], route: str | None) -> dict[str, Any]:
    """Method, the URL's route (``/api/episodes/{episode_id}/``, not the ids) and safe headers."""
    url = str(request.get("url") or "").split("?", 1)[0]
    if route:
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://{rest.split('/', 1)[0]}{route}" if rest else route
    headers = request.get("headers") or {}
    return {
        "method": request.get("method"),
        "url": redact(url),
        "headers": {k: v for k, v in headers.items() if k.title() in KEPT_HEADERS},
    }


def scrub_event(event: Event, hint: dict[str, Any] | None = None) -> Event:  # noqa: ARG001 - Sentry's before_send signature
    """Sentry's ``before_send``: the event with every patient-bearing field removed."""
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = SCRUBBED
        _frames(exception)
    for thread in (event.get("threads") or {}).get("values") or []:
        _frames(thread)
    if "request" in event:
        by_route = (event.get("transaction_info") or {}).get("source") == "route"
        event["request"] = _request(
            event["request"], str(event.get("transaction")) if by_route else None
        )
    if "user" in event:
        user_id = (event.get("user") or {}).get("id")
        event["user"] = {"id": user_id} if user_id is not None else {}
    logentry = event.get("logentry")
    if logentry:
        template = redact(str(logentry.get("message") or ""))
        event["logentry"] = {"message": template, "formatted": template}
    if event.get("message"):
        event["message"] = SCRUBBED
    event.pop("extra", None)
    event["contexts"] = {
        name: value
        for name, value in (event.get("contexts") or {}).items()
        if name in KEPT_CONTEXTS
    }
    breadcrumbs = (event.get("breadcrumbs") or {}).get("values")
    if breadcrumbs:
        event["breadcrumbs"]["values"] = [scrub_breadcrumb(crumb) for crumb in breadcrumbs]
    if event.get("transaction"):
        event["transaction"] = redact(str(event["transaction"]))
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: ARG001
    """A breadcrumb's kind and time only: its message and data can quote a patient."""
    return {k: v for k, v in crumb.items() if k in {"type", "category", "level", "timestamp"}}


def init_sentry(*, dsn: str, environment: str, release: str = "") -> bool:
    """Start the SDK when a DSN is configured; whether it was started."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        # Errors only: no performance tracing (its spans carry SQL and URLs).
        traces_sample_rate=0.0,
        integrations=[
            DjangoIntegration(transaction_style="url"),
            CeleryIntegration(),
            LoggingIntegration(event_level="ERROR"),
        ],
    )
    return True
