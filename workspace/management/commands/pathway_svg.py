"""`manage.py pathway_svg`: write the pathway picture (docs/pathway.svg) from the model."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from workspace.pathway_svg import pathway_svg


class Command(BaseCommand):
    help = "Draw the pathway picture from careflow's states, transitions and guards."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-o", "--output", default=str(Path(settings.BASE_DIR) / "docs" / "pathway.svg")
        )

    def handle(self, *args: object, **options: object) -> None:
        out = Path(str(options["output"]))
        out.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n' + pathway_svg() + "\n", encoding="utf-8"
        )
        self.stdout.write(f"wrote {out}")
