"""``manage.py team_lead --team <id or name> --user <username>``: appoint a team lead.

``--remove`` takes the role away. Through ``teams.services`` (audited, by "manage.py
team_lead"), for operators without the admin and for a first lead at install time.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from episodes.models import CareTeam
from teams import services


class Command(BaseCommand):
    help = "Appoint (or with --remove, remove) a care team's lead."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True, help="the care team's id or name")
        parser.add_argument("--user", required=True, help="the member's username")
        parser.add_argument("--remove", action="store_true", help="remove the lead role")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["team"]
        teams = CareTeam.objects.filter(pk=int(name)) if name.isdigit() else CareTeam.objects
        team = teams.filter(name=name).first() if not name.isdigit() else teams.first()
        if team is None:
            msg = f"No care team {name!r}."
            raise CommandError(msg)
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            msg = f"No user {options['user']!r}."
            raise CommandError(msg)
        service = services.team_lead_remove if options["remove"] else services.team_lead_appoint
        try:
            service(team_id=team.pk, user_id=user.pk, by=None)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        done = "is no longer a lead of" if options["remove"] else "leads"
        self.stdout.write(f"{user.get_username()} {done} {team.name}.")
