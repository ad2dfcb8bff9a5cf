"""The counters and histograms code paths bump, and the request middleware that times them.

Every process (gunicorn's workers, Celery's workers, beat) writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` when that is set (prometheus-client's multiprocess mode), and
``GET /metrics`` (``ops.views``) adds them up; without it each process keeps its own
(tests, ``manage.py runserver``). The patient-safety gauges are not here: they are read
from the database at scrape time (``ops.collector``).
https://prometheus.github.io/client_python/multiprocess/

Labels are bounded and carry no patient data: a route is the URL pattern's name, never the
path; a channel, outcome or provider error code comes from a short fixed vocabulary
(``error_code`` keeps only what looks like one); no id, name, number or address is ever a
label value (``tests/ops/test_metric_labels.py`` scrapes and checks every value).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

# Request latency buckets: the API answers in milliseconds, a report page in up to seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "careflow_http_requests",
    "HTTP requests answered, by route (URL pattern name), method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "careflow_http_request_duration_seconds",
    "Time from the request reaching Django's middleware to its response, by route.",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
)
REMINDER_SENDS = Counter(
    "careflow_reminder_sends",
    "Reminder send attempts by channel and outcome (sent, reconciled, transient_error,"
    " permanent_error).",
    ["channel", "outcome"],
)
REMINDER_SEND_FAILURES = Counter(
    "careflow_reminder_send_failures",
    "Failed reminder sends by channel, kind (transient, permanent) and provider error code"
    " (Twilio's error number, an HTTP or SMTP status; 'none' when the provider gave none).",
    ["channel", "kind", "code"],
)
RECONCILIATIONS = Counter(
    "careflow_reminder_reconciliations",
    "Provider look-ups for a reminder whose earlier attempt was in doubt, by channel and"
    " result (found: not sent again; not_found: sent; error: retried later).",
    ["channel", "result"],
)
WEBHOOK_REJECTIONS = Counter(
    "careflow_webhook_rejections",
    "Provider webhook requests refused, by webhook and reason (signature, malformed).",
    ["webhook", "reason"],
)
CACHE_FAIL_OPEN = Counter(
    "careflow_cache_fail_open",
    "Cache calls answered as an empty cache would because Redis could not be reached.",
    ["operation"],
)
CELERY_TASKS = Counter(
    "careflow_celery_tasks",
    "Celery tasks finished in this deployment's workers, by task name and state.",
    ["task", "state"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CODE = re.compile(r"(?:error |HTTP |SMTP )(\d{3,6})")


def error_code(message: str) -> str:
    """The provider's code in one of our send errors' messages, or ``none``.

    The messages are ours (``notifications/channels``): "Twilio HTTP 400 (error 21211)",
    "ESP error (HTTP 422)", "SMTP 550". Twilio's error number wins over its HTTP status.
    Digits only, at most six: a bounded label whatever the provider sends.
    """
    codes = _CODE.findall(message)
    twilio = re.search(r"\(error (\d{3,6})\)", message)
    if twilio:
        return twilio.group(1)
    return codes[0] if codes else "none"


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name (``api:episode-detail``), never the path.

    ``unmatched`` for a path no pattern matched (a 404 before any view), ``unnamed`` for a
    pattern without a name.
    """
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


class RequestMetricsMiddleware:
    """Counts and times every request by route, method and status (first in MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response
