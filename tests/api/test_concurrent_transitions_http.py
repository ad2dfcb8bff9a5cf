"""Twenty clients fire conflicting transitions at one episode over real HTTP, all at once.

A live server (Django's threaded test server: one thread and one database connection per
request) takes twenty POSTs that carry the same ``version``, half ``resolve`` and half
``close``. The row lock and the version check let exactly one through: one 200, nineteen
409s, one TransitionLog row, and the version moved by one. The row lock orders the
writers; the losers see the winner's version and get a 409, never a 500.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from knox.models import AuthToken

from episodes import services
from episodes.models import Episode, TransitionLog
from episodes.selectors import patient_today
from tests.factories import MembershipFactory, UserFactory

CLIENTS = 20
REQUEST_TIMEOUT_SECONDS = 60

pytestmark = pytest.mark.django_db(transaction=True)


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the live server's http:// URL
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_twenty_conflicting_transitions_exactly_one_succeeds(live_server, team, patient):
    # One user per client, so a per-user API throttle cannot turn a conflict into a 429.
    tokens = []
    for n in range(CLIENTS):
        user = UserFactory(username=f"racer-{n}")
        MembershipFactory(team=team, user=user, role="coordinator")
        tokens.append(AuthToken.objects.create(user=user)[1])
    episode = services.episode_create(
        patient=patient, by=None, symptom_onset=patient_today(patient)
    )
    version = episode.version
    bodies = [
        ("resolve", {"version": version, "note": "better"})
        if n % 2 == 0
        else ("close", {"version": version, "reason": "withdrawn"})
        for n in range(CLIENTS)
    ]
    start = threading.Barrier(CLIENTS)

    def fire(n: int) -> tuple[str, int, dict]:
        name, body = bodies[n]
        start.wait()  # every client connects and sends together
        url = f"{live_server.url}/api/episodes/{episode.pk}/transitions/{name}/"
        return (name, *_post(url, tokens[n], body))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(fire, range(CLIENTS)))

    statuses = Counter(status for _, status, _ in results)
    assert statuses == {200: 1, 409: CLIENTS - 1}, results
    ((winner, _, won),) = [r for r in results if r[1] == 200]
    assert won["state"] == {"resolve": "resolved", "close": "closed"}[winner]
    assert won["version"] == version + 1
    # The losers saw the version move (or, had the check run after the state's, a terminal
    # state): either way nothing of theirs was applied.
    assert {body["error"] for _, status, body in results if status == 409} <= {
        "conflict",
        "invalid_transition",
    }
    assert TransitionLog.objects.filter(episode=episode).count() == 1
    log = TransitionLog.objects.get(episode=episode)
    assert log.transition == winner
    stored = Episode.objects.get(pk=episode.pk)
    assert (stored.state, stored.version) == (won["state"], version + 1)
