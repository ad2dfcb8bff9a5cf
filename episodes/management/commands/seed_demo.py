"""`manage.py seed_demo`: demo data for `make run`. Idempotent: run it as often as you like.

Each kind of data has its own small function called from `handle`; add one per kind
(care teams, patients, episodes) and call it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_PASSWORD = "careflow-demo"  # noqa: S105 - a published demo login, local data only


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    is_staff: bool = False


DEMO_USERS = (
    DemoUser("coordinator", "Casey", "Coordinator", is_staff=True),
    DemoUser("clinician", "Robin", "Clinician"),
)


def seed_users() -> dict[str, User]:
    """Create or reset the demo users (password included, so the printed logins work)."""
    user_model = get_user_model()
    users = {}
    for demo in DEMO_USERS:
        user, _ = user_model.objects.update_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "email": f"{demo.username}@example.org",
                "is_staff": demo.is_staff,
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        users[demo.username] = user
    return users


class Command(BaseCommand):
    help = "Create the demo users (and, later, demo care teams, patients and episodes)."

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            users = seed_users()
        self.stdout.write("Demo logins (username / password):")
        for username in users:
            self.stdout.write(f"  {username} / {DEMO_PASSWORD}")
