"""`prolotrack restore FILE`: an archive of `prolotrack backup` into an empty database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from prolotrack.ops.restore import RestoreError, TableRestored, backup_restore
from prolotrack.ops.tables import TableError


class Command(BaseCommand):
    help = (
        "Restore FILE, written by `prolotrack backup`, into a freshly migrated database that "
        "holds no prolotrack data. Checksums, row counts and (when present) the audit chain are "
        "verified; on any failure nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive `prolotrack backup` wrote.")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: TableRestored) -> None:
            self.stdout.write(f"  {done.label:<40} {done.rows:>10} rows  {done.seconds:6.1f} s")

        try:
            report = backup_restore(Path(options["file"]), progress=progress)
        except (RestoreError, TableError, OSError) as exc:
            raise CommandError(f"Not restored: {exc}") from None
        except DatabaseError as exc:
            raise CommandError(f"Not restored, the database refused a row: {exc}") from None
        self.stdout.write(
            f"Restored {report.rows} rows of {report.tables} tables in {report.seconds:.1f} s; "
            "row counts and content checksums match the backup. "
            f"Audit hash chain: {report.audit_chain}."
        )
