"""One error shape for every API response: ``{"error": <code>, "detail": <sentence>, ...}``.

Wired in ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``. The services raise typed errors
(``episodes.services``) and Django ``ValidationError``; this maps each to the status code
API.md names for it. Anything not mapped here is a bug and stays a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from episodes.services import (
    EpisodeClosedError,
    GuardFailedError,
    InvalidTransitionError,
    NotPermittedError,
    StaleVersionError,
    TransitionError,
    UnknownTransitionError,
)

INVALID = "invalid"
GUARD_FAILED = "guard_failed"

_TRANSITION_STATUS: dict[type[TransitionError], tuple[int, str]] = {
    UnknownTransitionError: (status.HTTP_404_NOT_FOUND, "not_found"),
    InvalidTransitionError: (status.HTTP_409_CONFLICT, "invalid_transition"),
    StaleVersionError: (status.HTTP_409_CONFLICT, "conflict"),
    EpisodeClosedError: (status.HTTP_409_CONFLICT, "episode_closed"),
    NotPermittedError: (status.HTTP_403_FORBIDDEN, "permission_denied"),
}


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _summary(errors: dict[str, Any]) -> str:
    """A sentence for a person: each field with its first message."""
    parts = []
    for field, messages in errors.items():
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):
            first = "invalid item"
        parts.append(f"{field}: {first}")
    return "Invalid input. " + "; ".join(parts) if parts else "Invalid input."


def _invalid(errors: dict[str, Any]) -> Response:
    # Field errors stay at the top level (DRF style, as API.md shows); the two keys every
    # error carries come last so a field can never shadow them.
    return Response(
        {**errors, "error": INVALID, "detail": _summary(errors)},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _domain_response(exc: Exception) -> Response | None:
    """The errors our own code raises, each with the status API.md names for it."""
    if isinstance(exc, GuardFailedError):
        return Response(
            {
                "error": GUARD_FAILED,
                "detail": str(exc),
                "reasons": [{"rule": r.rule, "message": r.message} for r in exc.reasons],
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, TransitionError):
        code_status, code = _TRANSITION_STATUS.get(type(exc), (status.HTTP_409_CONFLICT, exc.code))
        return Response({"error": code, "detail": str(exc)}, status=code_status)
    if isinstance(exc, DjangoValidationError):
        return _invalid(_django_errors(exc))
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    domain = _domain_response(exc)
    if domain is not None:
        return domain
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        # ObjectDoesNotExist: a row vanished between the access check and the write.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        errors = data if isinstance(data, dict) else {api_settings.NON_FIELD_ERRORS_KEY: data}
        return _invalid(errors)
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    response.data = {
        "error": codes if isinstance(codes, str) else "error",
        "detail": str(getattr(exc, "detail", exc)),
    }
    return response


# The FHIR facade's paths: refusals made outside its views are OperationOutcomes too.
FHIR_PREFIX = "/fhir/"


def fhir_error(status: int, issue_type: str, detail: str) -> JsonResponse:
    """One error as the OperationOutcome a FHIR client reads.

    ``issue_type``: FHIR's issue type (https://hl7.org/fhir/R4/valueset-issue-type.html);
    https://hl7.org/fhir/R4/http.html#2.21.0.4
    """
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": issue_type, "diagnostics": detail}],
    }
    return JsonResponse(outcome, status=status, content_type="application/fhir+json")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's ``handler400``: a JSON 400 in the API's error shape, an OperationOutcome in FHIR's.

    Django answers a request it refuses before any view runs (a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields) with this handler; an API client
    must get JSON, not Django's HTML page.
    """
    detail = (
        "Request body too large." if isinstance(exception, RequestDataTooBig) else "Bad request."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "invalid", "detail": detail}, status=400)
    if request.path.startswith(FHIR_PREFIX):
        issue = "too-costly" if isinstance(exception, RequestDataTooBig) else "invalid"
        return fhir_error(400, issue, detail)
    return defaults.bad_request(request, exception)
