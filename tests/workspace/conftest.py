"""Workspace tests reuse the API tests' episodes on a fixed calendar."""

from tests.api.conftest import episode, other_episode  # noqa: F401 - fixtures, by name
