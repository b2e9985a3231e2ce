"""The clinic's outcome report as a PDF: the dashboard's numbers, on paper, for the file or a
meeting.

The numbers are those of the outcome dashboard and of ``prolotrack outcomes --format json``:
``outcomes.queries.outcomes_compute`` with the same filters, the breakdowns of
``outcomes.views.breakdowns`` and the relief curve of ``outcomes.charts.km_chart``; nothing here
computes an outcome of its own. The report is aggregates only: it names no patient and carries
no chart number (breakdown rows name a modality, a region, a condition, a practitioner or a
quarter). Built from ``interop/report_clinic.html`` and the print stylesheets by WeasyPrint, as
the patient's progress report (``interop.report``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from prolotrack.accounts.models import Clinic, User
from prolotrack.core import outcomes as core
from prolotrack.core.catalog import load_catalog
from prolotrack.interop.report import STYLESHEET
from prolotrack.outcomes.charts import km_chart
from prolotrack.outcomes.queries import Filters, outcomes_compute
from prolotrack.outcomes.views import DIMENSION_LABELS, breakdowns

CLINIC_STYLESHEET = STYLESHEET.parent / "clinic_report.css"
# Always in the report, whatever the dashboard's "Break down by" says; that choice is added.
REPORT_DIMENSIONS = ("modality", "region")
MODALITY_NAMES = {"neural": "Neural prolotherapy", "classic": "Classic prolotherapy"}
VERDICT_LABELS = {
    core.CONSISTENT: "Consistent",
    core.NOT_CONSISTENT: "Not consistent",
    core.INSUFFICIENT: "Not enough data",
    core.NOT_APPLICABLE: "Not applicable: another modality's claim",
}

DISCLAIMER = (
    "This report describes what was recorded in the clinic's charts and its patients' diaries "
    "for the sessions and filters shown. It is an observational summary, not a clinical trial: "
    "it is not evidence that the treatment works, and it says nothing certain about what any one "
    "patient can expect. It is not a claim of effectiveness and should not be quoted as one. The "
    "treatment's claims are quoted from practitioners' and clinics' own descriptions so that they "
    "can be set beside the clinic's data, not because they are established."
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, unit: str = "") -> str:
    # + 0.0 turns a mean rounded to -0.0 into 0: "-0" reads as a fall that is not there.
    return "—" if value is None else f"{value + 0.0:g}{unit}"


def _days(value: float) -> str:
    return f"{value:g} day" if value == 1 else f"{value:g} days"


def _pct_ci(ci: list[float | None] | None) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "—"
    return f"{100 * ci[0]:.0f}-{100 * ci[1]:.0f}%"


def _range(ci: list[float | None] | None, unit: str = "") -> str:
    """An interval as "low to high"; an open upper end (not reached) as "open"."""
    if not ci or ci[0] is None:
        return "—"
    high = "open" if ci[1] is None else _num(ci[1])
    return f"{_num(ci[0])} to {high}{unit}"


def _rate(part: dict[str, Any]) -> str:
    if part["rate"] is None:
        return "not enough data"
    return f"{part['n']} of {part['of']}, {_pct(part['rate'])}"


def summary_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """The summary table: measure, result, 95% interval, and what it rests on."""
    r30, r50 = report["responders_30"], report["responders_50"]
    imm, relief = report["immediate"], report["relief_days"]
    stc, ae = report["sessions_to_response"], report["adverse_events"]
    drop = report["drop_out_after_first"]
    threshold = f"{imm['threshold_kg_cm2']:g} kg/cm²"
    median = relief["median"]
    return [
        {"measure": "Patients", "value": str(report["patients"]), "ci": "", "basis": ""},
        {"measure": "Sessions", "value": str(report["sessions"]), "ci": "", "basis": ""},
        {
            "measure": "Eligible patients (two or more pain scores, baseline at least 1)",
            "value": str(report["eligible"]),
            "ci": "",
            "basis": "",
        },
        {
            "measure": "Responders, 30% less pain",
            "value": _rate(r30),
            "ci": _pct_ci(r30["ci95"]),
            "basis": f"{r30['of']} eligible patients",
        },
        {
            "measure": "Responders, 50% less pain",
            "value": _rate(r50),
            "ci": _pct_ci(r50["ci95"]),
            "basis": f"{r50['of']} eligible patients",
        },
        {
            "measure": "Mean change of the pressure-pain threshold 1 minute after injection",
            "value": _num(imm["mean_change_1min"], " kg/cm²"),
            "ci": _range(imm["mean_change_1min_ci95"], " kg/cm²"),
            "basis": f"{imm['sessions']} sessions",
        },
        {
            "measure": "Mean change 15 minutes after injection",
            "value": _num(imm["mean_change_15min"], " kg/cm²"),
            "ci": "",
            "basis": f"{imm['sessions_15min']} sessions",
        },
        {
            "measure": f"Sessions whose 1-minute rise reached {threshold}",
            "value": "not enough data"
            if imm["responding_share"] is None
            else _pct(imm["responding_share"]),
            "ci": _pct_ci(imm["responding_ci95"]),
            "basis": f"{imm['sessions']} sessions",
        },
        {
            "measure": "Median relief (Kaplan-Meier)",
            "value": "not reached or not enough data" if median is None else _days(median),
            "ci": _range(relief["median_ci95"], " days"),
            "basis": f"{relief['sessions']} sessions, pain back after {relief['events']}",
        },
        {
            "measure": "Median sessions to a 30% response",
            "value": _num(stc["median"]),
            "ci": _range(stc["ci95"]),
            "basis": f"{stc['n']} responders",
        },
        {
            "measure": "Adverse events",
            "value": f"{ae['count']} ({ae['serious']} serious)",
            "ci": "",
            "basis": "no sessions"
            if ae["per_100_sessions"] is None
            else f"{ae['per_100_sessions']:g} per 100 sessions",
        },
        {
            "measure": "Seen once and not again (drop-out after the first session)",
            "value": _rate(drop),
            "ci": _pct_ci(drop["ci95"]),
            "basis": f"{drop['of']} patients",
        },
    ]


def claim_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for claim in report["claims"]:
        low, high = claim["claimed"]
        rows.append(
            {
                **claim,
                "claimed_text": f"at least {low:g}" if high is None else f"{low:g} to {high:g}",
                "measured_text": _num(claim["measured"]),
                "ci_text": _range(claim["ci95"]),
                "verdict_label": VERDICT_LABELS[claim["verdict"]],
            }
        )
    return rows


# A printed report leaves the clinic; a breakdown row of fewer patients than this shows only
# that it is small, not its numbers, which a reader who knows those patients could tie to them.
# prolotrack's own default for shared reports (the dashboard, inside the clinic, shows every
# row); the report's limits and the README say so.
SMALL_GROUP_PATIENTS = 5


def breakdown_rows(table: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for row in table["rows"]:
        r = row["report"]
        r30 = r["responders_30"]
        if r["patients"] < SMALL_GROUP_PATIENTS:
            hidden = "—"
            out.append(
                {
                    "label": row["label"],
                    "patients": f"fewer than {SMALL_GROUP_PATIENTS}",
                    "sessions": hidden,
                    "responders": "not shown: a small group",
                    "ci": hidden,
                    "change_1min": hidden,
                    "relief": hidden,
                    "ae_per_100": hidden,
                }
            )
            continue
        out.append(
            {
                "label": row["label"],
                "patients": str(r["patients"]),
                "sessions": str(r["sessions"]),
                "responders": _rate(r30),
                "ci": _pct_ci(r30["ci95"]),
                "change_1min": _num(r["immediate"]["mean_change_1min"]),
                "relief": _num(r["relief_days"]["median"]),
                "ae_per_100": _num(r["adverse_events"]["per_100_sessions"]),
            }
        )
    return out


def limits(report: dict[str, Any]) -> list[str]:
    """What the numbers cannot tell, with this report's own counts."""
    imm, relief = report["immediate"], report["relief_days"]
    return [
        f"These are the clinic's own records of {report['patients']} patients and "
        f"{report['sessions']} sessions, without a comparison group. A change after treatment is "
        "not proof that the treatment caused it: pain also eases with time, tends to settle "
        "after a bad spell (regression to the mean) and responds to other care and to "
        "expectation.",
        f"Responder rates count the {report['eligible']} eligible patients only; patients with a "
        "single pain score (including those seen once) are not in them, and patients who stopped "
        "coming may have done better or worse than those who stayed.",
        f"Relief durations come from the pain diary after {relief['sessions']} of "
        f"{report['sessions']} sessions; sessions without diary entries are left out, and "
        "patients who keep a diary may not be typical.",
        # The measurement-error range of the dashboard's definitions (DOMAIN 4.1).
        f"The immediate response rests on the {imm['sessions']} sessions with algometer readings "
        "before and 1 minute after injection; changes within the algometer's published "
        "measurement error (0.5-1.8 kg/cm²) may be noise.",
        f"A claim is judged only on at least {core.MIN_CASES} cases and an interval narrow "
        'enough. "Consistent" means that the 95% interval reaches the claimed range, so these data '
        'do not contradict the claim; it does not confirm it. "Not enough data" means no '
        "judgement can be made either way.",
        "Adverse events are those recorded in the chart; events the clinic never heard of are "
        f"missing. Drop-out counts only patients whose first session was at least "
        f"{core.DROP_OUT_DAYS} days before the latest session shown.",
        "Rows of the breakdowns with few patients vary widely by chance. A row of fewer than "
        f"{SMALL_GROUP_PATIENTS} patients shows no numbers, since a reader who knows those "
        "patients could recognise them; the dashboard shows them inside the clinic. Share this "
        "report as carefully as the clinic's records.",
    ]


def session_span(filters: Filters) -> tuple[dt.date, dt.date] | None:
    """The first and last session dates the filters select (the report's period), read from
    the same per-session table and with the same WHERE as ``outcomes_compute``."""
    where, params = filters.where()
    # Only column names of Filters reach the text; values are parameters.
    sql = f"SELECT MIN(so.day), MAX(so.day) FROM outcomes_sessionoutcome so WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        first, last = cursor.fetchone()
    if first is None or last is None:
        return None
    return _as_date(first), _as_date(last)


def _as_date(value: Any) -> dt.date:
    # SQLite hands dates back as text from plain SQL; PostgreSQL as dates.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def report_dimensions(by: str | None) -> list[str]:
    """The breakdowns the report carries: modality and region, then the dashboard's choice."""
    dims = list(REPORT_DIMENSIONS)
    if by and by not in dims:
        if by not in DIMENSION_LABELS:
            raise ValueError(f"by: {by!r} is not one of {', '.join(DIMENSION_LABELS)}")
        dims.append(by)
    return dims


def clinic_today(clinic: Clinic | None) -> dt.date:
    """Today in the clinic's time zone (the server's for a registry of every clinic)."""
    if clinic is None:
        return timezone.localdate()
    try:
        zone = zoneinfo.ZoneInfo(clinic.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.localdate(timezone=zone)


def clinic_report_context(
    clinic: Clinic | None,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    modality: str | None = None,
    region: str | None = None,
    threshold_kg_cm2: float = core.DEFAULT_THRESHOLD_KG_CM2,
    by: str | None = None,
    prepared_by: User | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Everything the report shows. ``clinic`` None: every clinic of the database (a registry,
    from the command line only)."""
    dimensions = report_dimensions(by)
    report = outcomes_compute(
        clinic, date_from, date_to, modality, region, threshold_kg_cm2=threshold_kg_cm2
    )
    filters = Filters(
        clinic_id=clinic.pk if clinic else None,
        date_from=date_from,
        date_to=date_to,
        modality=modality,
        region=region,
    )
    region_entry = load_catalog().regions.get(region) if region else None
    tables = breakdowns(filters, dimensions, threshold_kg_cm2=threshold_kg_cm2)
    return {
        "clinic_name": clinic.name if clinic else "All clinics of this database",
        "prepared_by": prepared_by.display_name if prepared_by else "",
        "today": today or clinic_today(clinic),
        "filter_values": {
            "date_from": date_from.isoformat() if date_from else "",
            "date_to": date_to.isoformat() if date_to else "",
            "modality": modality or "",
            "region": region or "",
            "threshold": f"{threshold_kg_cm2:g}",
            "by": by or "",
        },
        "filters": [
            ("Sessions from", date_from.isoformat() if date_from else "the first recorded"),
            ("Sessions to", date_to.isoformat() if date_to else "the latest recorded"),
            ("Modality", MODALITY_NAMES.get(modality, modality) if modality else "All"),
            ("Region", (region_entry.name if region_entry else region) if region else "All"),
            ("Immediate-response threshold", f"{threshold_kg_cm2:g} kg/cm²"),
            ("Breakdowns", ", ".join(DIMENSION_LABELS[d] for d in dimensions)),
        ],
        "span": session_span(filters),
        "report": report,
        "summary_rows": summary_rows(report),
        "claims": claim_rows(report),
        "km_chart": km_chart(
            chart_id="clinic-relief-km",
            title="Share of sessions whose pain is not yet back, by days after the session "
            "(Kaplan-Meier)",
            curve=report["relief_days"]["curve"],
        ),
        "breakdowns": [
            {"label": table["label"], "rows": breakdown_rows(table)} for table in tables
        ],
        "limits": limits(report),
        "disclaimer": DISCLAIMER,
        "drop_out_days": core.DROP_OUT_DAYS,
        "min_cases": core.MIN_CASES,
    }


def render_clinic_report_html(context: dict[str, Any]) -> str:
    return render_to_string("interop/report_clinic.html", context)


def render_clinic_report_pdf(context: dict[str, Any]) -> bytes:
    """The report as PDF bytes."""
    # WeasyPrint pulls in pango through cffi; importing it here keeps start-up light for
    # everything that never prints.
    import weasyprint

    document = weasyprint.HTML(
        string=render_clinic_report_html(context), base_url=str(STYLESHEET.parent)
    )
    return document.write_pdf(
        stylesheets=[
            weasyprint.CSS(filename=str(STYLESHEET)),
            weasyprint.CSS(filename=str(CLINIC_STYLESHEET)),
        ]
    )


def clinic_report_filename(clinic: Clinic | None, today: dt.date) -> str:
    name = slugify(clinic.name) if clinic else "all-clinics"
    return f"outcome-report-{name or 'clinic'}-{today.isoformat()}.pdf"


def audit_detail(context: dict[str, Any], pdf: bytes) -> dict[str, object]:
    """What the audit event of a printed report records: counts and the filters, no record."""
    report = context["report"]
    return {
        "format": "pdf",
        "bytes": len(pdf),
        "patients": report["patients"],
        "sessions": report["sessions"],
        "filters": " ".join(f"{k}={v}" for k, v in context["filter_values"].items() if v),
    }
