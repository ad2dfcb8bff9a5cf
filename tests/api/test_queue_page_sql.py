"""A queue page's hand-written statement (issue 16, fifth part) reads what the ORM path reads.

On PostgreSQL a queue page is written by hand (``queue_page_rows``) instead of compiled from
``queue_rows``'s queryset. For every queue and every kind of user (one team, two teams, a
superuser, no team), walking every page forward and back over data with ties on the ordering
columns must give the same rows, as the same dicts with the same types, through both.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.pagination import BACKWARD, FORWARD, KeysetPagination
from episodes.models import Episode
from episodes.selectors import (
    QUEUES,
    queue_get,
    queue_page_rows,
    queue_page_sql_available,
    queue_rows,
)
from tests.api.test_queue_query_count import build
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.skipif(
    not queue_page_sql_available(), reason="the hand-written page is PostgreSQL's"
)

PAGE_SIZE = 3


def _request(cursor: str | None) -> Request:
    query = {"page_size": PAGE_SIZE} | ({"cursor": cursor} if cursor else {})
    return Request(APIRequestFactory().get("/api/queues/any/", query))


def _by_orm(name, user, now, pager, request):
    return pager.paginate_queryset(queue_rows(name, user=user, now=now), request)


def _by_sql(name, user, now, pager, request):
    return pager.paginate_rows(
        partial(queue_page_rows, name, user=user, now=now),
        ordering=queue_get(name).ordering,
        model=Episode,
        request=request,
    )


def _walk(read) -> list[list[dict]]:
    """Every page forward from the first, then every page back from the last."""
    pages, cursor = [], None
    for direction in (FORWARD, BACKWARD):
        while True:
            pager = KeysetPagination()
            pages.append(read(pager, _request(cursor)))
            link = pager._link(direction)  # noqa: SLF001 - the page's own next/previous link
            if link is None:
                break
            cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    return pages


def _typed(pages: list[list[dict]]) -> list[list[dict]]:
    return [[{k: (type(v), v) for k, v in row.items()} for row in page] for page in pages]


@pytest.mark.parametrize("name", list(QUEUES))
def test_the_hand_written_page_reads_the_orm_pages_rows(  # noqa: PLR0917 - fixtures
    team, other_team, clinician, other_clinician, superuser, name
):
    build(team, clinician, 40)  # next_deadline and reassessment_due_on repeat: ties
    build(other_team, other_clinician, 25)
    both = UserFactory(username="both-teams")
    MembershipFactory(team=team, user=both, role="clinician")
    MembershipFactory(team=other_team, user=both, role="clinician")
    nobody = UserFactory(username="no-team")
    now = timezone.now()
    seen = {}
    for user in (clinician, both, superuser, nobody):
        by_sql = _walk(partial(_by_sql, name, user, now))
        by_orm = _walk(partial(_by_orm, name, user, now))
        assert _typed(by_sql) == _typed(by_orm)
        seen[user.username] = {row["id"] for page in by_sql for row in page}
    assert seen["no-team"] == set()
    assert len(seen["clin-a"]) > PAGE_SIZE
    if name != "mine":  # the two-team user and the superuser are assigned nothing
        assert seen["clin-a"] < seen["both-teams"] == seen["root-admin"]
        assert len(seen["both-teams"]) > len(seen["clin-a"])
