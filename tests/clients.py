"""How tests talk to the JSON API: a client with a token, its paths, its pages."""

from __future__ import annotations

from knox.models import AuthToken
from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    """A client that authenticates the way integrations do: with a token header."""
    client = APIClient()
    if user is not None:
        _, token = AuthToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def url(path: str) -> str:
    return f"/api/{path.lstrip('/')}"


def walk_pages(client, path: str, key: str = "next") -> list[list[int]]:
    """The ids of every page from ``path`` on, following the ``next`` (or ``previous``) links."""
    pages = []
    while path:
        body = client.get(path).json()
        pages.append([row["id"] for row in body["results"]])
        path = body[key]
    return pages
