r"""Python CPU per API request, in process: steadier than a p95 on a shared machine.

``python -m bench.cpu queues --n 150`` and ``python -m bench.cpu transitions --n 150`` print
one JSON line: ``time.process_time()`` per request through ``django.test.Client`` (the
whole middleware and DRF stack, no HTTP server) and the statements one request sends;
``workspace`` does the same for the workspace's HTML queue pages, signed in by a session,
each beside the API's page of the same queue (``api_cpu_ms``, ``ratio``: the bench's
target is a workspace page within 2x the API's), then the episode page of an urgent and an
ordinary episode, picked as ``bench.run``'s ``bench_workspace`` picks them. ``--queue``
(repeatable) names the queues, ``--queue all`` every registered queue.
Run against a generated bench database with bench/run.py's settings, e.g.::

    DJANGO_SETTINGS_MODULE=config.settings.local DJANGO_DEBUG=False \
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/careflow_bench?conn_max_age=60" \
    CAREFLOW_API_RATE_USER=100000000/minute DJANGO_LOG_LEVEL=WARNING \
    python -m bench.cpu queues

``transitions`` moves ``n + 11`` of a team's (``--team``, default 1) ``conservative_care``
episodes to ``specialist_referral`` (as ``bench.run --transitions-only`` does with team 1).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

QUEUES = ("urgent", "overdue", "surgical_review", "mine")
# The workspace's default: the API's four, and the page with its own column (the failures).
WORKSPACE_QUEUES = (*QUEUES, "delivery_failures")
WARM_UP = 10


def _client(team: int = 1) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from knox.models import AuthToken

    user = get_user_model().objects.get(username=f"bench-coordinator-{team}-1")
    _, token = AuthToken.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token}", SERVER_NAME="127.0.0.1")


def _signed_in(team: int = 1) -> Any:
    """The workspace's client: a session, as a coordinator's browser has."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=f"bench-coordinator-{team}-1"))
    return client


def _statements(call: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def _cpu_ms(get: Any, n: int) -> float:
    """CPU per call of ``get`` over ``n`` calls, after ``WARM_UP`` calls not counted."""
    for _ in range(WARM_UP):
        get()
    started = time.process_time()
    for _ in range(n):
        get()
    return round((time.process_time() - started) / n * 1000, 2)


def _getter(client: Any, path: str) -> Any:
    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            msg = f"{path}: {response.status_code}"
            raise RuntimeError(msg)

    return get


def queues(n: int, names: tuple[str, ...] = QUEUES) -> dict[str, Any]:
    """The API's queue pages."""
    client = _client()
    out: dict[str, Any] = {}
    for name in names:
        get = _getter(client, f"/api/queues/{name}/?page_size=25")
        out[name] = {"cpu_ms": _cpu_ms(get, n), "statements": _statements(get)}
    return out


def workspace(n: int, names: tuple[str, ...] = WORKSPACE_QUEUES) -> dict[str, Any]:
    """The workspace's HTML queue pages beside the API's, then two episode pages."""
    from django.contrib.auth import get_user_model

    from episodes.selectors import queue_episodes

    client, api = _signed_in(), _client()
    out: dict[str, Any] = {}
    for name in names:
        page = _getter(client, f"/queues/{name}/")
        api_page = _getter(api, f"/api/queues/{name}/?page_size=25")
        cpu_ms, api_cpu_ms = _cpu_ms(page, n), _cpu_ms(api_page, n)
        out[name] = {
            "cpu_ms": cpu_ms,
            "api_cpu_ms": api_cpu_ms,
            "ratio": round(cpu_ms / api_cpu_ms, 2),
            "statements": _statements(page),
        }
    user = get_user_model().objects.get(username="bench-coordinator-1-1")
    for kind, queue in (("urgent", "urgent"), ("ordinary", "due_soon")):
        episode = queue_episodes(queue, user=user).first()
        if episode is None:
            continue
        page = _getter(client, f"/episodes/{episode.pk}/")
        out[f"episode_{kind}"] = {"cpu_ms": _cpu_ms(page, n), "statements": _statements(page)}
    return out


def transitions(n: int, team_number: int) -> dict[str, Any]:
    from episodes.models import CareTeam, Episode

    client = _client(team_number)
    team = CareTeam.objects.get(name=f"Bench team {team_number}")
    picked = list(
        Episode.objects.filter(care_team=team, state="conservative_care")
        .order_by("-id")
        .values_list("id", "version")[: n + WARM_UP + 1]
    )

    def post(episode_id: int, version: int) -> None:
        response = client.post(
            f"/api/episodes/{episode_id}/transitions/refer_to_specialist/",
            {"version": version},
            content_type="application/json",
        )
        if response.status_code != 200:
            raise RuntimeError(response.status_code)

    for episode_id, version in picked[:WARM_UP]:
        post(episode_id, version)
    started = time.process_time()
    for episode_id, version in picked[WARM_UP : WARM_UP + n]:
        post(episode_id, version)
    cpu_ms = (time.process_time() - started) / n * 1000
    last_id, last_version = picked[WARM_UP + n]
    return {
        "cpu_ms": round(cpu_ms, 2),
        "statements": _statements(lambda: post(last_id, last_version)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("queues", "workspace", "transitions"))
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument(
        "--team", type=int, default=1, help="whose conservative_care episodes transitions use"
    )
    parser.add_argument(
        "--queue", action="append", help="a queue to measure (repeatable; 'all': every one)"
    )
    args = parser.parse_args()
    import django

    django.setup()
    names = tuple(args.queue or ())
    if "all" in names:
        from episodes.selectors import QUEUES as REGISTERED

        names = tuple(REGISTERED)
    if args.what == "transitions":
        result = transitions(args.n, args.team)
    elif args.what == "workspace":
        result = workspace(args.n, names or WORKSPACE_QUEUES)
    else:
        result = queues(args.n, names or QUEUES)
    print(json.dumps(result))  # noqa: T201 - the output


if __name__ == "__main__":
    main()
