"""`prolotrack report PATIENT_ID --out FILE.pdf`: a patient's progress report as a PDF.

PATIENT_ID is the patient's number in prolotrack (the one in the chart's address, /patients/12/),
or their chart number with --clinic. The report is recorded in the audit trail as a print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.interop.report import ReportError, clean_summary, render_report_pdf
from prolotrack.patients.models import Patient


class Command(BaseCommand):
    help = "Write a patient's progress report (charts, sessions, sites, adverse events) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "patient", help="The patient's id (as in /patients/ID/), or chart number with --clinic."
        )
        parser.add_argument("--out", required=True, help="The PDF file to write.")
        parser.add_argument(
            "--clinic", help="The clinic's name; PATIENT is then read as a chart number."
        )
        parser.add_argument("--summary", default="", help="The practitioner's summary to include.")

    def handle(self, *args: Any, **options: Any) -> None:
        patient = _find(options["patient"], options.get("clinic"))
        try:
            summary = clean_summary(options["summary"])
        except ReportError as exc:
            raise CommandError(str(exc)) from None
        out = Path(options["out"])
        if out.is_dir():
            raise CommandError(f"--out: {out} is a folder; give a file name such as report.pdf")
        if not out.parent.is_dir():
            raise CommandError(f"--out: the folder {out.parent} does not exist")
        pdf = render_report_pdf(patient, prepared_by=None, summary=summary)
        out.write_bytes(pdf)
        audit_record(
            action=Action.PRINT,
            target=patient,
            detail={"via": "command", "format": "pdf", "bytes": len(pdf)},
        )
        self.stdout.write(
            f"Wrote {out} ({len(pdf) // 1024 + 1} KB), progress report of chart "
            f"{patient.chart_number}, {timezone.localdate().isoformat()}."
        )


def _find(key: str, clinic: str | None) -> Patient:
    patients = Patient.objects.select_related("clinic")
    if clinic:
        found = patients.filter(clinic__name=clinic, chart_number=key).first()
        if found is None:
            raise CommandError(f"patient: no chart number {key!r} in the clinic {clinic!r}")
        return found
    if not key.isdigit():
        raise CommandError(
            f"patient: {key!r} is not a patient id; give the number from the chart's address, "
            "or a chart number with --clinic NAME"
        )
    found = patients.filter(pk=int(key)).first()
    if found is None:
        raise CommandError(f"patient: no patient with id {key}")
    return found
