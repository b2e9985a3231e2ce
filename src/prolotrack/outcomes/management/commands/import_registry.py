"""`prolotrack import-registry DIR --clinic NAME`: load a registry's CSV files, all or nothing.

The file formats and how rows become records are in ``prolotrack.outcomes.registry``. The
database is migrated first, so the command works on a fresh one. Exit status: 0 imported,
2 refused (the message names the file, the line and the column); nothing is written then.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.outcomes.registry import RegistryError, registry_import

EXIT_INVALID = 2


class Command(BaseCommand):
    help = (
        "Import a registry folder of CSV files (patients, sessions, algometry, diary, adverse "
        "events) into a clinic, atomically. The clinic is created when no clinic has the name."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Usage lines show the documented, dashed name (see prolotrack.cli.ALIASES).
        return super().create_parser(prog_name, "import-registry", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", help="The folder holding patients.csv, sessions.csv, ...")
        parser.add_argument("--clinic", required=True, help="The clinic's name.")
        parser.add_argument(
            "--time-zone",
            default="America/Vancouver",
            help="The time zone of a clinic the import creates (default America/Vancouver).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["clinic"].strip()
        if not name or len(name) > 200:
            raise CommandError("--clinic: give the clinic's name (1-200 characters).", 2)
        call_command("migrate", interactive=False, verbosity=0)

        def progress(text: str) -> None:
            sys.stderr.write(f"import-registry: {text}...\n")

        try:
            result = registry_import(
                folder=Path(options["folder"]),
                clinic_name=name,
                time_zone=options["time_zone"],
                progress=progress,
            )
        except RegistryError as exc:
            raise CommandError(f"{exc}. Nothing was imported.", returncode=EXIT_INVALID) from None
        batch = result.registry_import
        created = " (a new clinic)" if result.created_clinic else ""
        self.stdout.write(
            f"Imported into {result.clinic.name}{created}: {batch.patients} patients, "
            f"{batch.sessions} sessions, {batch.readings} algometer readings, "
            f"{batch.diary_entries} diary entries, {batch.adverse_events} adverse events.\n"
        )
