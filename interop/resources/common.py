"""What every FHIR resource of Careflow's is built from: ids, instants, references, codings."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any, Final

from interop import codes

Resource = dict[str, Any]


def fhir_id(value: str) -> str:
    """A careflow code as a FHIR id fragment (``radicular_pain`` -> ``radicular-pain``)."""
    return value.replace("_", "-").replace(":", "-")


def instant(moment: datetime) -> str:
    """An aware datetime as a FHIR instant (Django stores them in UTC)."""
    return moment.isoformat()


def meta(updated: datetime) -> dict[str, str]:
    return {"lastUpdated": instant(updated)}


def ref(resource_type: str, resource_id: object, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, text)]}
    if text:
        out["text"] = text
    return out


def episode_ext(episode_id: int) -> dict[str, Any]:
    return {"url": codes.EXT_EPISODE, "valueReference": ref("EpisodeOfCare", episode_id)}


def team_ref(team_id: int, name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"identifier": {"system": codes.CARE_TEAMS, "value": str(team_id)}}
    if name:
        out["display"] = name
    return out


def who(user: Any, source: str) -> dict[str, str]:  # noqa: ANN401 - any auth user, or None
    """Who did it, as a display-only reference (careflow does not serve Practitioner)."""
    if user is not None:
        return {"display": user.get_username()}
    return {"display": f"careflow ({source})"}


def local_day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# The canonical JSON a digest is of, one encoder for every call (json.dumps with options
# builds one a call).
_CANONICAL: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def versioned(resource: Resource) -> Resource:
    """The resource with ``meta.versionId``: a digest of everything in it but its meta.

    The id changes exactly when what is served changes, which is what ETag and
    If-None-Match need (``interop.history`` numbers Patient's and EpisodeOfCare's versions
    by it).
    """
    content = {key: value for key, value in resource.items() if key != "meta"}
    digest = hashlib.sha256(_CANONICAL.encode(content).encode()).hexdigest()[:16]
    resource["meta"] = {**resource.get("meta", {}), "versionId": digest}
    return resource
