"""What a search's result parameters add to its page: included resources, subsets, totals.

``_include`` follows a reference of the page's resources (``EpisodeOfCare:patient``: each
episode's Patient); ``_revinclude`` finds the resources referring to them
(``Flag:episode``: the page's episodes' red flags). Either costs one query a pair for the
whole page, scoped to the user's care teams like the search itself (a Task's is its open
episode's next actions, computed episode by episode as the Task search does); what is
included is shown once, with ``search.mode`` ``include``, and never counts in ``total``.
``_elements`` keeps the named top-level elements (``resourceType``, ``id`` and ``meta``
always) and tags the resource SUBSETTED, as FHIR asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from django.db.models import Q, QuerySet

from episodes.selectors import episode_list_for, patient_list_for, patient_today
from interop import codes
from interop import resources as fhir
from interop.search import Result
from interop.selectors import (
    abated_at,
    condition_search,
    episode_tasks,
    flag_search,
    open_episodes_for,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    User = AbstractBaseUser

Resource = dict[str, Any]

# Resources one _revinclude may add to a page: a page of 1,000 patients' every episode and
# flag is a few thousand rows at most; beyond this bound the rest are left out.
MAX_INCLUDED: Final = 5000
SUBSETTED: Final = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}


def _id_of(reference: dict[str, Any] | None, resource_type: str) -> int | None:
    text = (reference or {}).get("reference", "")
    kind, _slash, number = text.partition("/")
    return int(number) if kind == resource_type and number.isdigit() else None


def _episode_of(resource: Resource) -> int | None:
    if resource["resourceType"] == "EpisodeOfCare":
        return int(resource["id"])
    for extension in resource.get("extension", []):
        if extension.get("url") == codes.EXT_EPISODE:
            return _id_of(extension.get("valueReference"), "EpisodeOfCare")
    return None


def patient_of(resource: Resource) -> int | None:
    """The patient a resource is about (for the audit of what a page shows)."""
    if resource["resourceType"] == "Patient":
        return int(resource["id"])
    for field in ("patient", "subject", "for"):
        found = _id_of(resource.get(field), "Patient")
        if found is not None:
            return found
    return None


# What each _include follows: the reference's target type, and how to read it off a resource.
_FOLLOW: Final[dict[str, tuple[str, Callable[[Resource], Iterable[int | None]]]]] = {
    "patient": ("Patient", lambda r: [patient_of(r)]),
    "episode": ("EpisodeOfCare", lambda r: [_episode_of(r)]),
    "focus": ("EpisodeOfCare", lambda r: [_id_of(r.get("focus"), "EpisodeOfCare")]),
    "condition": (
        "Condition",
        lambda r: [_id_of(d.get("condition"), "Condition") for d in r.get("diagnosis", [])],
    ),
}


def _patients(user: User, ids: set[int]) -> list[Resource]:
    return [fhir.patient_resource(p) for p in patient_list_for(user).filter(pk__in=ids)]


def _episodes(user: User, ids: set[int]) -> list[Resource]:
    episodes = episode_list_for(user).select_related("assigned_to").filter(pk__in=ids)
    return [fhir.episode_resource(e) for e in episodes.order_by("id")]


def _conditions(user: User, ids: set[int]) -> list[Resource]:
    found = condition_search(user, ids=sorted(ids), patient_ids=None, last_updated=None)
    return [fhir.condition_resource(e, abated=abated_at(e)) for e in found]


_READ: Final[dict[str, Callable[[Any, set[int]], list[Resource]]]] = {
    "Patient": _patients,
    "EpisodeOfCare": _episodes,
    "Condition": _conditions,
}


def _flags(user: User, where: Q) -> list[Resource]:
    flags = flag_search(user, ids=None, patient_ids=None, statuses=None).filter(where)
    return [fhir.flag_resource(f, patient_id=f.episode.patient_id) for f in flags[:MAX_INCLUDED]]


def _tasks(user: User, episode_ids: set[int]) -> list[Resource]:
    out = []
    episodes: QuerySet[Any] = open_episodes_for(user, patient_ids=None).filter(id__in=episode_ids)
    for episode in episodes:
        today = patient_today(episode.patient)
        out.extend(fhir.task_resource(episode, a, today) for a in episode_tasks(episode, today))
    return out[:MAX_INCLUDED]


def _reverse(user: User, wanted: str, page: list[Resource]) -> list[Resource]:
    ids = {int(r["id"]) for r in page}
    if not ids:
        return []
    if wanted == "EpisodeOfCare:patient":
        episodes = episode_list_for(user).select_related("assigned_to").filter(patient_id__in=ids)
        return [fhir.episode_resource(e) for e in episodes.order_by("id")[:MAX_INCLUDED]]
    if wanted == "Flag:patient":
        return _flags(user, Q(episode__patient_id__in=ids))
    if wanted == "Flag:episode":
        return _flags(user, Q(episode_id__in=ids))
    if wanted == "Task:focus":
        return _tasks(user, ids)
    msg = f"no reverse include {wanted}"  # unreachable: search.result checked it
    raise ValueError(msg)


def included(user: User, asked: Result, page: list[Resource]) -> list[Resource]:
    """The resources ``_include`` and ``_revinclude`` add to a page, each once."""
    out: list[Resource] = []
    for wanted in asked.include:
        target, follow = _FOLLOW[wanted.partition(":")[2]]
        ids = {i for r in page for i in follow(r) if i is not None}
        if ids:
            out.extend(_READ[target](user, ids))
    for wanted in asked.revinclude:
        out.extend(_reverse(user, wanted, page))
    shown = {(r["resourceType"], r["id"]) for r in page}
    unique: dict[tuple[str, str], Resource] = {}
    for resource in out:
        key = (resource["resourceType"], resource["id"])
        if key not in shown:
            unique.setdefault(key, resource)
    return list(unique.values())


def subset(resource: Resource, elements: frozenset[str] | None) -> Resource:
    """``_elements``: the resource with only those top-level elements, tagged SUBSETTED."""
    if elements is None:
        return resource
    kept = {k: v for k, v in resource.items() if k in elements or k in ("resourceType", "id")}
    meta = dict(resource.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    return {**kept, "meta": meta}


def total(asked: Result, queryset: QuerySet[Any], bounded: Callable[[], int | None]) -> int | None:
    """Bundle.total as ``_total`` asks: none, exact (accurate, estimate), else bounded."""
    if asked.total == "none":
        return None
    if asked.total in ("accurate", "estimate") or asked.count_only:
        return queryset.order_by().count()
    return bounded()
