"""`prolotrack backup FILE`: a consistent snapshot of the database, while the app runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.ops.backup import BackupError, TableDone, backup_create
from prolotrack.ops.tables import TableError


class Command(BaseCommand):
    help = (
        "Write every table of prolotrack, and the users' groups, to FILE as one consistent "
        "snapshot (a tar of gzip-compressed JSON lines with a manifest of checksums). The app "
        "may keep running. FILE must not exist yet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive to write, for example prolotrack.tar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        started = time.perf_counter()

        def progress(done: TableDone) -> None:
            self.stdout.write(f"  {done.label:<40} {done.rows:>10} rows")

        try:
            manifest = backup_create(path, progress=progress)
        except (BackupError, TableError, OSError) as exc:
            raise CommandError(f"No backup written: {exc}") from None
        rows = sum(entry["rows"] for entry in manifest["tables"])
        self.stdout.write(
            f"Backed up {rows} rows of {len(manifest['tables'])} tables to {path} in "
            f"{time.perf_counter() - started:.1f} s."
        )
