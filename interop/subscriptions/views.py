"""``/fhir/Subscription`` and ``/fhir/SubscriptionTopic``: thin, over outbox and selectors.

A subscription is its owner's: another user's (even a team mate's: its endpoint and
headers are the owner's system's) is a 404. Making or deleting one needs the write scope
of an OAuth 2 token, reading one the read scope, as the facade's other writes and reads.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticValidationError
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from interop import search
from interop.capability import search_names
from interop.clients import READ, WRITE
from interop.paging import (
    CURSOR,
    count_param,
    decode,
    keyset_rows,
)
from interop.subscriptions.models import Status, Subscription
from interop.subscriptions.outbox import (
    SubscriptionRefused,
    subscription_create,
    subscription_delete,
)
from interop.subscriptions.resources import status_bundle, subscription_resource
from interop.subscriptions.topics import BY_ID, TOPICS, topic_resource
from interop.views import (
    FhirApi,
    FhirSearchApi,
    entity_tags,
    listed_searchset,
    operation_outcome,
    searchset,
    version_headers,
)

MAX_ISSUES = 20


def _owned(request: Request, resource_id: str) -> Subscription:
    if not (resource_id.isascii() and resource_id.isdigit()) or len(resource_id) > 18:  # noqa: PLR2004
        raise Http404
    found = Subscription.objects.filter(pk=int(resource_id), owner_id=request.user.pk).first()
    if found is None:
        raise Http404
    return found


def _gone() -> Response:
    outcome = operation_outcome([("deleted", "This subscription was deleted.", None)])
    return Response(outcome, status=status.HTTP_410_GONE)


def _structure_issues(exc: PydanticValidationError) -> list[tuple[str, str, str | None]]:
    issues = []
    for error in exc.errors()[:MAX_ISSUES]:
        where = ".".join(str(part) for part in error["loc"] if part != "__root__")
        expression = f"Subscription.{where}" if where else "Subscription"
        issues.append(("structure", f"{expression}: {error['msg']}", expression))
    return issues


def _search(request: Request) -> Response:
    params = search.params(request, search_names("Subscription"))
    mine: QuerySet[Subscription] = Subscription.objects.filter(owner_id=request.user.pk)
    ids = search.ids(params)
    if ids is not None:
        mine = mine.filter(pk__in=ids)
    mine = mine.order_by("id")
    page = keyset_rows(mine, ("id",), decode(params.get(CURSOR), length=1), count_param(params))
    found = [subscription_resource(s) for s in page.rows]
    return Response(
        searchset(
            request, "Subscription", params=params, page=page, resources=found, total=mine.count()
        )
    )


class SubscriptionSearchApi(FhirSearchApi):
    """``GET Subscription`` / ``POST Subscription/_search``: the caller's subscriptions."""

    def get(self, request: Request) -> Response:
        return _search(request)


class SubscriptionApi(FhirApi):
    """``/fhir/Subscription``: POST makes one (FHIR create), GET searches the caller's."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.scope = WRITE if request.method == "POST" else READ
        super().initial(request, *args, **kwargs)

    def get(self, request: Request) -> Response:
        return _search(request)

    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
            outcome = operation_outcome(
                [("invalid", "The body is a Subscription resource (FHIR JSON).", None)]
            )
            return Response(outcome, status=status.HTTP_400_BAD_REQUEST)
        try:
            get_fhir_model_class("Subscription").model_validate(body)
        except PydanticValidationError as exc:
            return Response(
                operation_outcome(_structure_issues(exc)), status=status.HTTP_400_BAD_REQUEST
            )
        try:
            made = subscription_create(owner=request.user, body=body)
        except SubscriptionRefused as exc:
            outcome = operation_outcome([("invalid", what, where) for where, what in exc.issues])
            return Response(outcome, status=status.HTTP_400_BAD_REQUEST)
        resource = subscription_resource(made)
        location = request.build_absolute_uri(f"/fhir/Subscription/{made.pk}")
        return Response(resource, status=status.HTTP_201_CREATED, headers={"Location": location})


class SubscriptionReadApi(FhirApi):
    """``GET`` (read) and ``DELETE`` ``/fhir/Subscription/{id}``; a deleted one is 410."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.scope = WRITE if request.method == "DELETE" else READ
        super().initial(request, *args, **kwargs)

    def get(self, request: Request, resource_id: str) -> Response:
        subscription = _owned(request, resource_id)
        if _deleted(subscription):
            return _gone()
        resource = subscription_resource(subscription)
        return Response(resource, headers=version_headers(resource))

    def delete(self, request: Request, resource_id: str) -> Response:
        subscription = _owned(request, resource_id)
        refused = _if_match_refused(request, subscription)
        if refused is not None:
            return refused
        if not _deleted(subscription):
            subscription_delete(subscription_id=subscription.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _if_match_refused(request: Request, subscription: Subscription) -> Response | None:
    """``If-Match`` on a delete: a 412 unless it names the version served now (or ``*``).

    FHIR's version-aware writes compare the weak ETags a read gives (W/"versionId"), so
    W/ is ignored on both sides; a deleted subscription has no version to match.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    if not _deleted(subscription):
        current = version_headers(subscription_resource(subscription))["ETag"]
        if header.strip() == "*" or current in entity_tags(header):
            return None
        diagnostics = (
            f"If-Match: the subscription has changed since that version; it is {current} "
            "now (read it again, then delete with that ETag)"
        )
    else:
        diagnostics = "If-Match: the subscription is deleted, so no version can match"
    outcome = operation_outcome([("conflict", diagnostics, None)])
    return Response(outcome, status=status.HTTP_412_PRECONDITION_FAILED)


def _deleted(subscription: Subscription) -> bool:
    """Only a delete turns a subscription ``off`` (one past its end stays as it was)."""
    return subscription.status == Status.OFF


class SubscriptionStatusApi(FhirApi):
    """``GET /fhir/Subscription/{id}/$status``: a searchset of its SubscriptionStatus."""

    def get(self, request: Request, resource_id: str) -> Response:
        search.params(request, set())
        subscription = _owned(request, resource_id)
        if _deleted(subscription):
            return _gone()
        return Response(status_bundle(request.build_absolute_uri(), subscription))


class SubscriptionTopicApi(FhirApi):
    def get(self, request: Request, resource_id: str) -> Response:  # noqa: ARG002
        topic = BY_ID.get(resource_id)
        if topic is None:
            raise Http404
        return Response(topic_resource(topic))


class SubscriptionTopicSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("SubscriptionTopic"))
        wanted = search.values(params, "_id")
        items = [topic_resource(t) for t in TOPICS.values() if wanted is None or t.id in wanted]
        return listed_searchset(
            request, "SubscriptionTopic", params=params, items=items, total=len(items)
        )
