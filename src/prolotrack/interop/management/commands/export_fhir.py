"""`prolotrack export-fhir --out DIR [--clinic NAME]`: a clinic as FHIR R4 bulk NDJSON.

One file per resource type (`Patient.ndjson`, `Observation.ndjson`, ...) and `manifest.json`,
streamed from one snapshot of the database: memory does not grow with the clinic. The export is
recorded in the audit trail as a disclosure of the clinic's records.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.accounts.models import Clinic
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.interop.fhir.export import ExportError, bulk_export


def clinic_named(name: str | None) -> Clinic:
    """The clinic called ``name``; without a name, the only clinic of the database."""
    if name:
        clinic = Clinic.objects.filter(name=name).first()
        if clinic is None:
            raise CommandError(f"no clinic named {name!r}")
        return clinic
    clinics = list(Clinic.objects.order_by("name")[:2])
    if len(clinics) != 1:
        raise CommandError(
            "name the clinic with --clinic NAME" if clinics else "the database has no clinic"
        )
    return clinics[0]


class Command(BaseCommand):
    help = "Export a clinic as FHIR R4 bulk NDJSON (one file per resource type, and a manifest)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, "export-fhir", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="A new (or empty) folder.")
        parser.add_argument("--clinic", help="The clinic's name (needed when there are several).")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = clinic_named(options["clinic"])
        started = time.perf_counter()
        try:
            manifest = bulk_export(clinic, Path(options["out"]))
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        total = sum(item["count"] for item in manifest["output"])
        audit_record(
            action=Action.EXPORT,
            object_type="clinic",
            object_id=clinic.pk,
            clinic_id=clinic.pk,
            detail={"format": "fhir-ndjson", "resources": total, "via": "export-fhir"},
        )
        for item in manifest["output"]:
            self.stdout.write(f"{item['url']}: {item['count']}")
        seconds = time.perf_counter() - started
        self.stdout.write(
            json.dumps({"clinic": clinic.name, "resources": total, "seconds": round(seconds, 2)})
        )
