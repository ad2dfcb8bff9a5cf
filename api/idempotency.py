"""``Idempotency-Key`` on every API and FHIR POST: a retried request is answered, not repeated.

A client that may retry (a timeout, a dropped connection) sends a key of its choosing with
the POST. The first request with that key (per user) runs and its answer is stored; the
same key with the same method, path and body gets that answer again (with
``Idempotent-Replayed: true``) and changes nothing; the same key with another request is
``422 idempotency_key_reused``; a repeat while the first is still running is ``409
idempotency_key_in_progress`` (for at most five minutes: a first request that died mid-flight
frees its key then). Answers of 429 and 5xx are not kept (the retry runs).
Modelled on the IETF draft https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from api.authentication import CareflowTokenAuthentication
from api.errors import FHIR_PREFIX, fhir_error
from api.models import IdempotentRequest

HEADER = "Idempotency-Key"
# Far longer than any request runs (gunicorn's worker timeout is 30 s).
STALE_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


# FHIR's issue type for each refusal (https://hl7.org/fhir/R4/valueset-issue-type.html).
FHIR_ISSUE = {
    "invalid": "invalid",
    "idempotency_key_reused": "business-rule",
    "idempotency_key_in_progress": "conflict",
}


def _error(request: HttpRequest, status: int, code: str, detail: str) -> JsonResponse:
    """API.md's error shape; on the FHIR facade, an OperationOutcome."""
    if request.path.startswith(FHIR_PREFIX):
        return fhir_error(status, FHIR_ISSUE[code], detail)
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _user(request: HttpRequest) -> object | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    try:
        found = CareflowTokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(row.body), status=row.status_code, content_type=row.content_type or None
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(user: object, key: str, fingerprint: str) -> IdempotentRequest:
    with transaction.atomic():
        return IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint)


def _repeat(
    request: HttpRequest,
    get_response: Callable[[HttpRequest], HttpResponse],
    user: object,
    key: str,
    fingerprint: str,
) -> HttpResponse | None:
    """The answer to a request whose key was seen before (None: run it after all)."""
    existing = IdempotentRequest.objects.filter(user=user, key=key).first()
    if existing is None:  # removed in between (the first one failed): run this one
        return get_response(request)
    if existing.fingerprint != fingerprint:
        return _error(
            request,
            422,
            "idempotency_key_reused",
            f"This {HEADER} was used for a different request.",
        )
    if existing.status_code is None:
        # A first request that died mid-flight (its process killed) never finishes: after
        # STALE_AFTER its key is free again; exactly one retry takes it over.
        taken_over = IdempotentRequest.objects.filter(
            pk=existing.pk, status_code__isnull=True, created_at__lt=timezone.now() - STALE_AFTER
        ).delete()[0]
        if taken_over:
            return None
        return _error(
            request,
            409,
            "idempotency_key_in_progress",
            f"A request with this {HEADER} is still running; retry shortly.",
        )
    return _replay(existing)


def _begin(
    request: HttpRequest,
    get_response: Callable[[HttpRequest], HttpResponse],
    user: object,
    key: str,
    fingerprint: str,
) -> IdempotentRequest | HttpResponse:
    """The row this request runs under, or the answer when its key was seen before."""
    for _ in range(2):  # a second try only after taking over a stale key
        try:
            return _claim(user, key, fingerprint)
        except IntegrityError:
            answer = _repeat(request, get_response, user, key, fingerprint)
            if answer is not None:
                return answer
    return _error(request, 409, "idempotency_key_in_progress", "Retry shortly.")


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        applies = (
            key is not None
            and request.method == "POST"
            and request.path.startswith(("/api/", FHIR_PREFIX))
        )
        user = _user(request) if applies else None
        if user is None:  # no key, not an API POST, or not logged in (the view answers 401)
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return _error(
                request, 400, "invalid", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."
            )
        fingerprint = _fingerprint(request)
        row = _begin(request, self.get_response, user, key, fingerprint)
        if isinstance(row, HttpResponse):
            return row
        response = self.get_response(request)
        if response.status_code == 429 or response.status_code >= 500:  # noqa: PLR2004
            row.delete()
            return response
        row.status_code = response.status_code
        row.content_type = response.get("Content-Type", "")
        row.body = response.content
        row.save(update_fields=["status_code", "content_type", "body"])
        return response
