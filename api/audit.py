"""The audit trail of access: who read or changed which patient's record, and when.

A middleware, so no view can forget it: every request that names a patient or an episode
(the API's ``patient_id`` / ``episode_id``, the admin's change pages of patients and
episodes, or an enrolment's new ones: ``record_created``) leaves one ``AccessRecord`` after
its response, denied ones included (a 404 on
someone else's episode is worth knowing about). A list or queue page records one row per
patient it shows (the view names them with ``record_shown``), written in one multi-row INSERT.
Superusers read the records in the admin.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from api.models import AccessRecord
from episodes.models import Episode
from infra.client import client_ip
from infra.db import prepared_cursor

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_MODELS = {"episodes_episode_change": "episode", "episodes_patient_change": "patient"}
MAX_ID = 2**63 - 1


def _ids(request: HttpRequest) -> tuple[int | None, int | None]:
    """(patient_id, episode_id) the request is about, from its URL."""
    match = request.resolver_match
    if match is None:
        return None, None
    kwargs = dict(match.kwargs)
    admin_kind = ADMIN_MODELS.get(match.url_name or "")
    if admin_kind is not None:
        kwargs[f"{admin_kind}_id"] = kwargs.get("object_id")
    if match.url_name == "episodes_episode_transition":
        kwargs["episode_id"] = kwargs.get("object_id")

    def as_id(value: object) -> int | None:
        try:
            number = int(str(value))
        except (TypeError, ValueError):
            return None
        return number if 0 < number <= MAX_ID else None

    return as_id(kwargs.get("patient_id")), as_id(kwargs.get("episode_id"))


# The columns ``_insert`` writes, ``at`` (now) first; a row gives the others in this order.
COLUMNS = ("at", "user_id", "username", "action", "method", "path", "status_code",
           "address", "patient_id", "episode_id")  # fmt: skip


def _target() -> tuple[Any, str, str]:
    """The ``at`` of the records written now, the quoted table and its ``COLUMNS``."""
    meta = AccessRecord._meta  # noqa: SLF001 - Django's public _meta API
    return meta.get_field("at").get_db_prep_value(timezone.now(), connection), *_names()


@cache
def _names() -> tuple[str, str]:
    """The quoted table and its ``COLUMNS``: the same on every request."""
    quote = connection.ops.quote_name
    return quote(AccessRecord._meta.db_table), ", ".join(quote(c) for c in COLUMNS)  # noqa: SLF001


def _insert(rows: list[tuple[Any, ...]]) -> None:
    """Write access records as one multi-row INSERT: no model instance per row.

    The columns and values ``bulk_create`` would write, without its per-row ``AccessRecord``
    objects, field pre-saves and the BEGIN/COMMIT it wraps one statement in (a single
    statement is atomic by itself). Every row of a response shares one ``at``.
    """
    if not rows:
        return
    at, table, columns = _target()
    placeholders = ", ".join([f"({', '.join(['%s'] * len(COLUMNS))})"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {placeholders}",  # noqa: S608 - names, not data
            [value for row in rows for value in (at, *row)],
        )


def _insert_shown(common: tuple[Any, ...], patient_ids: list[int]) -> None:
    """One read record per patient shown, all sharing ``common`` (user … address).

    One ``INSERT … SELECT … FROM UNNEST`` whose text and ten parameters are
    the same for every page: psycopg converts a statement of up to 50 parameters once and
    caches it, while the multi-row ``VALUES`` of a 25-row page (225 parameters) is parsed
    again on every request (~1 ms of CPU). The same rows, in the order shown.
    """
    at, table, columns = _target()
    with prepared_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns})"  # noqa: S608 - names, not data
            " SELECT %s, %s, %s, %s, %s, %s, %s, %s, shown.patient_id, NULL"
            " FROM UNNEST(%s::bigint[]) WITH ORDINALITY AS shown (patient_id, n)"
            " ORDER BY shown.n",
            [at, *common, patient_ids],
        )


def _address(request: HttpRequest) -> str | None:
    """The client's address (``infra.client``), or None if the connection gave no valid one."""
    address = client_ip(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


SHOWN_ATTRIBUTE = "careflow_patients_shown"
PATIENT_ATTRIBUTE = "careflow_patient_id"


def record_shown(request: Any, patient_ids: Iterable[int]) -> None:  # noqa: ANN401 - Django's or DRF's request
    """Name the patients a list response shows; the middleware records one row for each."""
    http_request = getattr(request, "_request", request)
    shown = getattr(http_request, SHOWN_ATTRIBUTE, [])
    shown.extend(patient_ids)
    setattr(http_request, SHOWN_ATTRIBUTE, shown)


def record_patient(request: Any, patient_id: int) -> None:  # noqa: ANN401 - Django's or DRF's request
    """Name the patient of an episode request whose view has the episode at hand.

    The record of an episode URL names its patient; without this the middleware looks the
    patient up from the episode (one query more).
    """
    setattr(getattr(request, "_request", request), PATIENT_ATTRIBUTE, patient_id)


CREATED_ATTRIBUTE = "careflow_created"


def record_created(request: Any, patient_id: int, episode_id: int | None = None) -> None:  # noqa: ANN401 - Django's or DRF's request
    """Name what an enrolment created (its URL names nothing yet): recorded as a write."""
    setattr(getattr(request, "_request", request), CREATED_ATTRIBUTE, (patient_id, episode_id))


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Read after the view: DRF authenticates a token inside the view and sets the user
        # on this request as it does.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patient_id, episode_id = _ids(request)
            if patient_id is None and episode_id is None:
                patient_id, episode_id = getattr(request, CREATED_ATTRIBUTE, (None, None))
            if patient_id is not None or episode_id is not None:
                self._record(request, response, user, patient_id, episode_id)
            elif getattr(request, SHOWN_ATTRIBUTE, None):
                self._record_shown(request, response, user, getattr(request, SHOWN_ATTRIBUTE))
        return response

    @staticmethod
    def _record_shown(
        request: HttpRequest,
        response: HttpResponse,
        user: Any,  # noqa: ANN401 - the request's user
        patient_ids: list[int],
    ) -> None:
        username = user.get_username()
        method = request.method or ""
        path = request.get_full_path()[:300]
        status_code = response.status_code
        common = (user.pk, username, "read", method, path, status_code, _address(request))
        try:
            _insert_shown(common, list(dict.fromkeys(patient_ids)))
        except DatabaseError:
            logger.exception("access records not written path=%s", request.path[:100])

    @staticmethod
    def _record(
        request: HttpRequest,
        response: HttpResponse,
        user: Any,  # noqa: ANN401 - the request's user
        patient_id: int | None,
        episode_id: int | None,
    ) -> None:
        if patient_id is None and episode_id is not None:
            patient_id = getattr(request, PATIENT_ATTRIBUTE, None)
        if patient_id is None and episode_id is not None:
            patient_id = (
                Episode.objects.filter(pk=episode_id).values_list("patient_id", flat=True).first()
            )
        row = (
            user.pk,
            user.get_username(),
            "read" if request.method in SAFE_METHODS else "write",
            request.method or "",
            request.path[:300],
            response.status_code,
            _address(request),
            patient_id,
            episode_id,
        )
        try:
            _insert([row])
        except DatabaseError:
            # The response is already made; losing the record must be visible, not fatal.
            logger.exception("access record not written path=%s", request.path[:100])
