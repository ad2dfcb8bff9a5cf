"""``manage.py fhir_client_create --team 3 --name "Hospital EHR"``: an OAuth 2 client."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from episodes.models import CareTeam
from interop.clients import fhir_client_create


class Command(BaseCommand):
    help = "Create an OAuth 2 client-credentials client of the FHIR facade for one care team."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", type=int, required=True, help="the care team's id")
        parser.add_argument("--name", required=True, help="what the client is, e.g. its EHR")

    def handle(self, *args: Any, **options: Any) -> None:
        team = CareTeam.objects.filter(pk=options["team"]).first()
        if team is None:
            msg = f"No care team {options['team']}."
            raise CommandError(msg)
        client = fhir_client_create(team=team, name=options["name"])
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"client_secret: {client.client_secret}  (shown once)")
