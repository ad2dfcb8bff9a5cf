"""``GET /metrics``: Prometheus's text format, for the operator's scraper only.

The scraper sends ``Authorization: Bearer <CAREFLOW_METRICS_TOKEN>``; anything else is a
``404`` (nobody else learns the endpoint exists). Without a token configured the endpoint
answers ``404`` to everyone: production settings never open it by default.

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn, Celery: every process writes its samples
there) the counters are every process's, added up; the patient-safety gauges are read from
the database on each scrape (``ops.collector``).
https://prometheus.github.io/client_python/multiprocess/
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric

from ops.collector import PatientSafetyCollector

_BEARER = "Bearer "


def _authorized(request: HttpRequest) -> bool:
    expected = settings.CAREFLOW_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not expected or not given.startswith(_BEARER):
        return False
    return hmac.compare_digest(given[len(_BEARER) :].encode(), expected.encode())


def metrics_registry() -> CollectorRegistry:
    """A registry for one scrape: every process's samples (or this one's), and the gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        # One process: its own metrics, as the default registry holds them.
        registry.register(_Default())
    registry.register(PatientSafetyCollector())
    return registry


class _Default:
    """The process's default registry as one collector of this scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        raise Http404
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
