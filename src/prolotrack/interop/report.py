"""The patient's progress report as a PDF: for the family physician, the patient or the file.

Built from an HTML template (``interop/report_patient.html``) and a print stylesheet
(``interop/report.css``) by WeasyPrint, which needs Debian's pango (see the README). The charts
and the body map are the same inline SVG the chart page draws, so the report shows what the
practitioner saw. Reading the data runs a fixed number of queries whatever the number of
sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from prolotrack.accounts.models import User
from prolotrack.core.catalog import Catalog, load_catalog
from prolotrack.diary.relief import relief_by_series
from prolotrack.diary.services.entries import patient_zone
from prolotrack.patients.models import Allergy, Condition, Patient
from prolotrack.treatment.bodymap import series_map
from prolotrack.treatment.models import Session, TreatmentSeries
from prolotrack.treatment.progress import SeriesProgress, adverse_events, series_progress

STYLESHEET = Path(__file__).parent / "static" / "interop" / "report.css"
# Longest practitioner's summary a report carries; a report is a letter, not a notebook.
SUMMARY_MAX_CHARS = 4000

DISCLAIMER = (
    "This report summarises what was recorded in the clinic's chart. It supports, and does not "
    "replace, the judgement of the clinicians caring for the patient. Pain scores and "
    "pressure-pain thresholds are the patient's own and the practitioner's measurements; "
    "their changes are not proof that the treatment caused them."
)


class ReportError(ValueError):
    """The report cannot be made as asked; the message says which field is wrong."""


@dataclass
class ReportSeries:
    series: TreatmentSeries
    region_name: str
    condition_name: str
    sessions: list[Session]
    progress: SeriesProgress
    bodymap: Any
    injected_sites: list[str]


def clean_summary(text: str) -> str:
    summary = (text or "").strip()
    if len(summary) > SUMMARY_MAX_CHARS:
        raise ReportError(
            f"summary: at most {SUMMARY_MAX_CHARS} characters, this one has {len(summary)}"
        )
    return summary


def _condition_name(catalog: Catalog, condition: Condition | None) -> str:
    if condition is None:
        return ""
    entry = catalog.conditions.get(condition.code)
    return entry.name if entry else condition.code


def report_context(
    patient: Patient, *, prepared_by: User | None, summary: str = "", today: dt.date | None = None
) -> dict[str, Any]:
    """Everything the report template shows, read in a fixed number of queries."""
    catalog = load_catalog()
    today = today or timezone.localdate()
    sessions_qs = (
        Session.objects.select_related("practitioner", "signed_by")
        .prefetch_related("injections", "readings", "adverse_events")
        .order_by("performed_at", "id")
    )
    series_list = list(
        TreatmentSeries.objects.filter(patient=patient)
        .select_related("condition")
        .prefetch_related(Prefetch("sessions", queryset=sessions_qs))
        .order_by("started_on", "id")
    )
    # Relief after each session, from the patient's diary, as on the chart.
    relief = relief_by_series(
        patient, {s.pk: list(s.sessions.all()) for s in series_list}, patient_zone(patient)
    )
    blocks = []
    for series in series_list:
        sessions = list(series.sessions.all())
        region = catalog.regions.get(series.region)
        injected = {(i.site, i.side) for s in sessions for i in s.injections.all()}
        names = sorted(
            {
                f"{catalog.sites[site].name if site in catalog.sites else site}, {side}"
                for site, side in injected
            }
        )
        blocks.append(
            ReportSeries(
                series=series,
                region_name=region.name if region else series.region,
                condition_name=_condition_name(catalog, series.condition),
                sessions=sessions,
                progress=series_progress(series, sessions, catalog, relief.get(series.pk)),
                bodymap=series_map(
                    catalog,
                    region=series.region,
                    modality=series.modality,
                    injected=injected,
                    interactive=False,
                    injected_only=True,
                )
                if injected
                else None,
                injected_sites=names,
            )
        )
    ae_names = {c.code: c.name for c in catalog.adverse_events.values()}
    allergy_names = dict(Allergy.choices)
    conditions = list(patient.conditions.all())
    return {
        "patient": patient,
        "clinic": patient.clinic,
        "age": patient.age_on(today),
        "allergies": [allergy_names.get(a, a) for a in patient.allergies or []],
        "conditions": [
            (c, _condition_name(catalog, c), catalog.regions[c.region].name)
            if c.region in catalog.regions
            else (c, _condition_name(catalog, c), c.region)
            for c in conditions
        ],
        "blocks": blocks,
        "total_sessions": sum(len(b.sessions) for b in blocks),
        "adverse_events": [
            (session, event, ae_names.get(event.category, event.category))
            for session, event in adverse_events({b.series.pk: b.sessions for b in blocks})
        ],
        "summary": summary,
        "prepared_by": prepared_by,
        "today": today,
        "disclaimer": DISCLAIMER,
    }


def render_report_html(patient: Patient, **kwargs: Any) -> str:
    return render_to_string("interop/report_patient.html", report_context(patient, **kwargs))


def render_report_pdf(patient: Patient, **kwargs: Any) -> bytes:
    """The report as PDF bytes. Dates are shown in the clinic's time zone."""
    # WeasyPrint pulls in pango through cffi; importing it here keeps start-up light for
    # everything that never prints.
    import weasyprint

    with timezone.override(patient.clinic.time_zone):
        html = render_report_html(patient, **kwargs)
    document = weasyprint.HTML(string=html, base_url=str(STYLESHEET.parent))
    return document.write_pdf(stylesheets=[weasyprint.CSS(filename=str(STYLESHEET))])


def report_filename(patient: Patient, today: dt.date) -> str:
    """A file name without the patient's name: file names end up in places notes do not."""
    safe = "".join(ch for ch in patient.chart_number if ch.isalnum() or ch in "-_") or "patient"
    return f"progress-report-{safe}-{today.isoformat()}.pdf"
