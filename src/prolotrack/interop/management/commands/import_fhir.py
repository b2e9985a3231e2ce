"""`prolotrack import-fhir PATH --clinic NAME`: FHIR R4 resources into a new or empty clinic.

PATH is a Bundle (one JSON file, at most 64 MiB by default) or the folder of a bulk export
(`<Type>.ndjson` files, at most 4 GiB in all by default, lines of at most 1 MiB). All or
nothing, in one transaction; an error names the file and line (or Bundle entry), the resource
and the path inside it. XML and anything else that is not JSON is refused unread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.interop.fhir.importer import (
    MAX_BUNDLE_BYTES,
    MAX_NDJSON_BYTES,
    MIB,
    FhirImportError,
    import_fhir,
)

EXIT_INVALID = 2


class Command(BaseCommand):
    help = "Import a FHIR Bundle (JSON) or a bulk NDJSON folder into a new or empty clinic."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, "import-fhir", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="A Bundle JSON file or a bulk-export folder.")
        parser.add_argument("--clinic", required=True, help="The new (or empty) clinic's name.")
        parser.add_argument(
            "--max-bundle-mb", type=int, default=MAX_BUNDLE_BYTES // MIB, help="Default 64."
        )
        parser.add_argument(
            "--max-ndjson-mb", type=int, default=MAX_NDJSON_BYTES // MIB, help="Default 4096."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = import_fhir(
                Path(options["path"]),
                clinic_name=options["clinic"],
                max_bundle_bytes=options["max_bundle_mb"] * MIB,
                max_ndjson_bytes=options["max_ndjson_mb"] * MIB,
            )
        except FhirImportError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        audit_record(
            action=Action.CREATE,
            object_type="clinic",
            object_id=result.clinic.pk,
            clinic_id=result.clinic.pk,
            detail={"format": "fhir", "resources": result.total, "via": "import-fhir"},
        )
        self.stdout.write(
            json.dumps({"clinic": result.clinic.name, "resources": dict(result.counts)})
        )
