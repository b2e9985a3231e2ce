"""`prolotrack export-registry DIR [--clinic NAME] [--deidentify]`: research CSV files.

Writes the registry format that `prolotrack import-registry` reads (see the README). With
--deidentify: no names or contact details, birth year only, random ids and per-patient date
shifts. The export is recorded in the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.accounts.models import Clinic
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.interop.registry_export import ExportError, export_registry


class Command(BaseCommand):
    help = (
        "Export a clinic's records as registry CSV files (for research), optionally de-identified."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, "export-registry", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", help="A new or empty folder to write the CSV files into.")
        parser.add_argument("--clinic", help="The clinic's name (needed when there are several).")
        parser.add_argument(
            "--deidentify",
            action="store_true",
            help="Random ids, birth year only, dates shifted by a random offset per patient.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = _clinic(options.get("clinic"))
        out = Path(options["dir"])
        try:
            counts = export_registry(clinic, out, deidentify=options["deidentify"])
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        audit_record(
            action=Action.EXPORT,
            object_type="registry",
            clinic_id=clinic.pk,
            detail={
                "via": "command",
                "format": "registry-csv",
                "deidentified": options["deidentify"],
                "patients": counts.patients,
                "sessions": counts.sessions,
            },
        )
        kind = "de-identified " if options["deidentify"] else ""
        self.stdout.write(
            f"Wrote {kind}registry CSV of {clinic.name} to {out}: {counts.patients} patients, "
            f"{counts.sessions} sessions, {counts.readings} algometer readings, "
            f"{counts.diary_entries} diary entries, {counts.adverse_events} adverse events."
        )


def _clinic(name: str | None) -> Clinic:
    if name:
        clinic = Clinic.objects.filter(name=name).first()
        if clinic is None:
            known = ", ".join(Clinic.objects.values_list("name", flat=True)[:10]) or "none"
            raise CommandError(f"--clinic: no clinic named {name!r} (clinics: {known})")
        return clinic
    clinics = list(Clinic.objects.all()[:2])
    if not clinics:
        raise CommandError("--clinic: there is no clinic in this database")
    if len(clinics) > 1:
        raise CommandError("--clinic: there are several clinics; name one with --clinic NAME")
    return clinics[0]
