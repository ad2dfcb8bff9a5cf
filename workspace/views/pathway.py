"""The pathway picture alone, as an image."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from workspace.pathway_svg import pathway_svg


@require_GET
def pathway_picture(request: HttpRequest) -> HttpResponse:  # noqa: ARG001 - Django's signature
    """The pathway picture alone (image/svg+xml), as docs/pathway.svg has it."""
    return HttpResponse(pathway_svg(), content_type="image/svg+xml")
