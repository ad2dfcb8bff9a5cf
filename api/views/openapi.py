"""The OpenAPI parts every operation shares: its error responses and its id parameters.

Importing it registers ``api.schema``'s extension, before any schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status

from api import schema  # noqa: F401 - registers an extension
from api.serializers.outputs import (
    ErrorSerializer,
    GuardFailedSerializer,
    ValidationErrorSerializer,
)
from episodes.selectors import MAX_ID

_ERROR_DESCRIPTIONS = {
    400: "Invalid input: `error` is `invalid`; each invalid field maps to its messages.",
    401: "Not authenticated.",
    403: "Authenticated but not permitted.",
    404: "Does not exist, or is not visible to you.",
    409: "`invalid_transition` (not allowed from this state), `conflict` (stale version) or "
    "`episode_closed` (a write to a resolved or closed episode).",
    422: "`guard_failed`: every failing guideline rule, in `reasons`.",
    429: "`throttled`: too many requests; `Retry-After` says when to try again.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses of an operation; 401, 404 and 429 apply to every one."""
    out = {}
    for code in sorted({401, 403, 404, 429, *codes}):
        serializer: Any = ErrorSerializer
        if code == status.HTTP_400_BAD_REQUEST:
            serializer = ValidationErrorSerializer
        elif code == status.HTTP_422_UNPROCESSABLE_ENTITY:
            serializer = GuardFailedSerializer
        out[code] = OpenApiResponse(serializer, description=_ERROR_DESCRIPTIONS[code])
    return out


def id_param(name: str, description: str = "") -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        OpenApiParameter.PATH,
        description=description,
    )


EPISODE_ID = id_param("episode_id")
PATIENT_ID = id_param("patient_id")
