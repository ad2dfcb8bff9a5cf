"""Scraping ``GET /metrics`` in tests: the samples, parsed with prometheus-client's parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "test-metrics-token-0123456789"  # noqa: S105 - the tests' own scraper


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of every sample in an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text)[(name, tuple(sorted(labels.items())))]
