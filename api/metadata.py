"""What ``OPTIONS`` says of an API view: DRF's metadata, for views without one serializer.

Most views read and write through services with an input serializer per method, not a
``serializer_class``; DRF's ``SimpleMetadata`` asks for the latter to describe PUT and POST
and fails. Here a view without one is described by its name, description, renderers and
parsers only; the full description of every body is the OpenAPI schema (/api/schema/).
"""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    def determine_actions(self, request: Any, view: Any) -> dict[str, Any]:  # noqa: ANN401 - DRF's request and view
        try:
            view.get_serializer_class()
        except AssertionError:
            return {}  # no serializer_class: the schema describes its bodies
        return super().determine_actions(request, view)
