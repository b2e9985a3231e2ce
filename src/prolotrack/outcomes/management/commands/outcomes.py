"""`prolotrack outcomes`: the clinic's measured outcomes beside the treatment's claims.

    prolotrack outcomes --format json [--clinic NAME] [--from DATE] [--to DATE]
                        [--modality M] [--region R] [--threshold KG_CM2] [--rebuild]
    prolotrack outcomes --format pdf --out FILE.pdf [--by DIMENSION] [the same filters]

prints the numbers of ``outcomes.queries.outcomes_compute`` (definitions in
``prolotrack.core.outcomes``), or writes them as the outcome report PDF of the dashboard's
button (``interop.clinic_report``; recorded in the audit trail as a print). Without --clinic,
every clinic of the database (a registry). Exit status 2 with a message naming the option when
an argument is invalid.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.accounts.models import Clinic
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.core.catalog import load_catalog
from prolotrack.core.outcomes import DEFAULT_THRESHOLD_KG_CM2
from prolotrack.core.units import MAX_PPT_KG_CM2
from prolotrack.interop.clinic_report import (
    audit_detail,
    clinic_report_context,
    render_clinic_report_pdf,
)
from prolotrack.outcomes.queries import outcomes_compute
from prolotrack.outcomes.summary import session_outcomes_refresh
from prolotrack.outcomes.text import report_text
from prolotrack.outcomes.views import DIMENSION_LABELS

EXIT_INVALID = 2


def _invalid(message: str) -> CommandError:
    return CommandError(message, returncode=EXIT_INVALID)


class Command(BaseCommand):
    help = (
        "Print the outcome numbers (responders, immediate response, relief, sessions to "
        "response, adverse events) and the claims' verdicts, as JSON or text, or write them "
        "as the outcome report PDF."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format", default="text", help="json, text or pdf (default text; pdf needs --out)."
        )
        parser.add_argument("--out", help="The PDF file to write (with --format pdf).")
        parser.add_argument(
            "--by",
            help="With --format pdf: a breakdown added to modality and region "
            f"({', '.join(DIMENSION_LABELS)}).",
        )
        parser.add_argument("--clinic", help="A clinic's name (default: every clinic).")
        parser.add_argument("--from", dest="date_from", help="First session date, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last session date, YYYY-MM-DD.")
        parser.add_argument("--modality", help="neural or classic.")
        parser.add_argument("--region", help="A region code of the catalog, such as knee.")
        parser.add_argument(
            "--threshold",
            default=str(DEFAULT_THRESHOLD_KG_CM2),
            help="Immediate-response threshold in kg/cm2 (default 1.0).",
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Recompute the per-session outcome summary from the records first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = options["format"]
        if fmt not in ("json", "text", "pdf"):
            raise _invalid(f"--format: {fmt!r} is not json, text or pdf.")
        out = _out_path(options["out"]) if fmt == "pdf" else None
        if fmt != "pdf":
            for option in ("out", "by"):
                if options[option] is not None:
                    raise _invalid(f"--{option}: only with --format pdf.")
        by = options["by"]
        if by is not None and by not in DIMENSION_LABELS:
            raise _invalid(f"--by: {by!r} is not one of {', '.join(DIMENSION_LABELS)}.")
        date_from = _date("--from", options["date_from"])
        date_to = _date("--to", options["date_to"])
        if date_from and date_to and date_from > date_to:
            raise _invalid(f"--from {date_from} is after --to {date_to}.")
        modality = options["modality"]
        if modality is not None and modality not in ("neural", "classic"):
            raise _invalid(f"--modality: {modality!r} is not neural or classic.")
        region = options["region"]
        if region is not None and region not in load_catalog().regions:
            codes = ", ".join(load_catalog().regions)
            raise _invalid(f"--region: {region!r} is not a region code ({codes}).")
        try:
            threshold = float(options["threshold"])
        except ValueError:
            threshold = -1.0
        if not 0 < threshold <= MAX_PPT_KG_CM2:
            raise _invalid(
                f"--threshold: {options['threshold']!r} is not a number of kg/cm2 above 0 "
                f"and at most {MAX_PPT_KG_CM2:g}."
            )
        call_command("migrate", interactive=False, verbosity=0)
        clinic = None
        if options["clinic"] is not None:
            clinic = Clinic.objects.filter(name=options["clinic"]).first()
            if clinic is None:
                raise _invalid(f"--clinic: no clinic is named {options['clinic']!r}.")
        if options["rebuild"]:
            for cid in [clinic.pk] if clinic else Clinic.objects.values_list("pk", flat=True):
                session_outcomes_refresh(clinic_id=cid)
        if out is not None:
            self._write_pdf(
                out,
                clinic,
                date_from=date_from,
                date_to=date_to,
                modality=modality,
                region=region,
                threshold_kg_cm2=threshold,
                by=by,
            )
            return
        report = outcomes_compute(
            clinic,
            date_from,
            date_to,
            modality,
            region,
            threshold_kg_cm2=threshold,
        )
        if fmt == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(report_text(report, clinic=clinic.name if clinic else None))

    def _write_pdf(self, out: Path, clinic: Clinic | None, **filters: Any) -> None:
        context = clinic_report_context(clinic, **filters)
        pdf = render_clinic_report_pdf(context)
        # Written beside the target, then renamed: a failure leaves no half-written report.
        partial = out.with_name(f".{out.name}.partial")
        try:
            partial.write_bytes(pdf)
            partial.replace(out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise _invalid(f"--out: cannot write {out}: {exc.strerror or exc}.") from None
        audit_record(
            action=Action.PRINT,
            object_type="outcomes",
            clinic_id=clinic.pk if clinic else None,
            detail={"via": "command", **audit_detail(context, pdf)},
        )
        self.stdout.write(
            f"Wrote {out} ({len(pdf) // 1024 + 1} KB), outcome report of "
            f"{context['clinic_name']}, {context['today'].isoformat()}."
        )


def _out_path(value: str | None) -> Path:
    if not value:
        raise _invalid("--out: give the PDF file to write, such as --out outcomes.pdf.")
    out = Path(value)
    if out.is_dir():
        raise _invalid(f"--out: {out} is a folder; give a file name such as outcomes.pdf.")
    if not out.parent.is_dir():
        raise _invalid(f"--out: the folder {out.parent} does not exist.")
    return out


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _invalid(f"{option}: {value!r} is not a date (YYYY-MM-DD).") from None
