"""The outcome pages: the clinic dashboard (with its breakdown table, which the page loads
after itself, and its CSV downloads) and a patient's progress.

The dashboard shows aggregates of the user's own clinic only: the clinic id comes from the
signed-in user, never from the request. It is for the clinic's practitioners, administrators and
auditors; front desk and patients are refused (403). The progress page is clinical: practitioners
only, through the patient access helper (clinic boundary and care team).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from prolotrack.accounts.models import CLINICIAN_ROLES, Role, User
from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record
from prolotrack.core import outcomes as core
from prolotrack.core.catalog import load_catalog
from prolotrack.core.units import MAX_PPT_KG_CM2
from prolotrack.outcomes.charts import km_chart
from prolotrack.outcomes.progress import patient_progress
from prolotrack.outcomes.queries import Filters, outcomes_by, outcomes_compute
from prolotrack.patients.access import get_patient_for_user, require_clinician
from prolotrack.treatment.views import clinic_zone

DASHBOARD_ROLES = frozenset({*CLINICIAN_ROLES, Role.CLINIC_ADMIN, Role.AUDITOR})
DIMENSION_LABELS = {
    "modality": "Modality",
    "region": "Region",
    "condition": "Condition",
    "practitioner": "Practitioner",
    "period": "Quarter",
}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def require_dashboard(user: User) -> None:
    if user.role not in DASHBOARD_ROLES or user.clinic_id is None:
        raise PermissionDenied(
            "The outcome dashboard is for the clinic's practitioners, administrators and auditors."
        )


class OutcomeFilterForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", help_text="YYYY-MM-DD")
    date_to = forms.DateField(required=False, label="To", help_text="YYYY-MM-DD")
    modality = forms.ChoiceField(
        required=False,
        choices=[("", "All"), ("neural", "Neural prolotherapy"), ("classic", "Classic")],
    )
    region = forms.ChoiceField(required=False)
    by = forms.ChoiceField(
        required=False,
        label="Break down by",
        choices=[("", "Modality")]
        + [(k, v) for k, v in DIMENSION_LABELS.items() if k != "modality"],
    )
    threshold = forms.FloatField(
        required=False,
        min_value=0.1,
        max_value=MAX_PPT_KG_CM2,
        label="Immediate-response threshold, kg/cm²",
        help_text="Default 1.0 (DOMAIN 4.1 measurement error).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalog = load_catalog()
        self.fields["region"].choices = [("", "All")] + [
            (code, region.name) for code, region in catalog.regions.items()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self, clinic_id: int) -> Filters:
        data = self.cleaned_data
        return Filters(
            clinic_id=clinic_id,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            modality=data.get("modality") or None,
            region=data.get("region") or None,
        )

    @property
    def threshold_kg_cm2(self) -> float:
        return self.cleaned_data.get("threshold") or core.DEFAULT_THRESHOLD_KG_CM2


def _compute(form: OutcomeFilterForm, clinic_id: int) -> dict[str, Any]:
    f = form.filters(clinic_id)
    return outcomes_compute(
        clinic_id,
        f.date_from,
        f.date_to,
        f.modality,
        f.region,
        threshold_kg_cm2=form.threshold_kg_cm2,
    )


def _group_label(dimension: str, value: Any, names: dict[int, str]) -> str:
    catalog = load_catalog()
    if dimension == "modality":
        return {"neural": "Neural prolotherapy", "classic": "Classic prolotherapy"}.get(
            value, str(value)
        )
    if dimension == "region":
        region = catalog.regions.get(value)
        return region.name if region else str(value)
    if dimension == "condition":
        if not value:
            return "Not recorded (registry import)"
        condition = catalog.conditions.get(value)
        return condition.name if condition else str(value)
    if dimension == "practitioner":
        return names.get(value, f"#{value}")
    return str(value)


def breakdowns(
    filters: Filters, dimensions: list[str], *, threshold_kg_cm2: float
) -> list[dict[str, Any]]:
    """The breakdown tables of the dashboard, its CSV downloads and the outcome report (PDF)."""
    names: dict[int, str] = {}
    if "practitioner" in dimensions:
        users = User.objects.all()
        if filters.clinic_id is not None:
            users = users.filter(clinic_id=filters.clinic_id)
        names = {u.pk: u.display_name for u in users}
    tables = []
    for dimension in dimensions:
        rows = [
            {"label": _group_label(dimension, value, names), "report": report}
            for value, report in outcomes_by(dimension, filters, threshold_kg_cm2=threshold_kg_cm2)
        ]
        tables.append({"key": dimension, "label": DIMENSION_LABELS[dimension], "rows": rows})
    return tables


@require_GET
@login_required
@audit_refusals(object_type="outcomes")
def dashboard(request: HttpRequest) -> HttpResponse:
    require_dashboard(request.user)
    clinic_id = request.user.clinic_id
    form = OutcomeFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "outcomes/dashboard.html", {"form": form}, status=400)
    if not request.GET:
        form = OutcomeFilterForm({})
        form.is_valid()
    report = _compute(form, clinic_id)
    audit_record(
        request=request,
        action=Action.LIST,
        object_type="outcomes",
        detail={"patients": report["patients"], "sessions": report["sessions"]},
    )
    by = form.cleaned_data.get("by") or "modality"
    context = {
        "form": form,
        "report": report,
        # The breakdown is a second pass over the clinic's sessions: it comes from its own
        # request (dashboard_breakdown) after the page, so the page answers in about the time
        # of the numbers alone. Without script, a link opens it.
        "breakdown": {"key": by, "label": DIMENSION_LABELS[by]},
        "dimensions": DIMENSION_LABELS,
        "km_chart": km_chart(
            chart_id="relief-km",
            title="Share of sessions whose pain is not yet back, by days after the session "
            "(Kaplan-Meier)",
            curve=report["relief_days"]["curve"],
        ),
        "query": request.GET.urlencode(),
        "tables": TABLES,
        "claims_defs": core.CLAIMS,
        "drop_out_days": core.DROP_OUT_DAYS,
        "min_cases": core.MIN_CASES,
    }
    with timezone.override(clinic_zone(request.user)):
        return render(request, "outcomes/dashboard.html", context)


# The dashboard's script asks for the breakdown with this header and gets the table alone; a
# plain link (no script) gets it as a page of its own.
PARTIAL_HEADER = "X-Requested-With"


@require_GET
@login_required
@audit_refusals(object_type="outcomes")
def dashboard_breakdown(request: HttpRequest) -> HttpResponse:
    """The dashboard's breakdown table ("Break down by", with the dashboard's filters)."""
    require_dashboard(request.user)
    clinic_id = request.user.clinic_id
    partial = bool(request.headers.get(PARTIAL_HEADER))
    template = "outcomes/_breakdown.html" if partial else "outcomes/breakdown.html"
    query = request.GET.urlencode()
    form = OutcomeFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "errors": _form_errors(form), "query": query}
        return render(request, template, context, status=400)
    by = form.cleaned_data.get("by") or "modality"
    [table] = breakdowns(form.filters(clinic_id), [by], threshold_kg_cm2=form.threshold_kg_cm2)
    audit_record(
        request=request,
        action=Action.LIST,
        object_type="outcomes",
        detail={
            "by": by,
            "groups": len(table["rows"]),
            "sessions": sum(row["report"]["sessions"] for row in table["rows"]),
        },
    )
    with timezone.override(clinic_zone(request.user)):
        return render(request, template, {"form": form, "table": table, "query": query})


def _form_errors(form: OutcomeFilterForm) -> list[str]:
    """Each error with the field it is about: its label and its parameter name."""
    return [
        f"{form[name].label if name in form.fields else 'Filters'} ({name}): {' '.join(errors)}"
        for name, errors in form.errors.items()
    ]


TABLES = {
    "summary": "Summary",
    "claims": "Claims",
    "relief": "Relief curve",
    **{f"by_{k}": f"By {v.lower()}" for k, v in DIMENSION_LABELS.items()},
}


def _summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    r30, r50 = report["responders_30"], report["responders_50"]
    imm, relief = report["immediate"], report["relief_days"]
    ae, drop = report["adverse_events"], report["drop_out_after_first"]
    ci = report["relief_days"]["median_ci95"] or [None, None]

    def lo_hi(part: list[Any] | None) -> list[Any]:
        return list(part) if part else [None, None]

    return [
        ["measure", "value", "n", "ci95_low", "ci95_high"],
        ["patients", report["patients"], "", "", ""],
        ["sessions", report["sessions"], "", "", ""],
        ["eligible", report["eligible"], "", "", ""],
        ["responders_30_rate", r30["rate"], r30["n"], *lo_hi(r30["ci95"])],
        ["responders_50_rate", r50["rate"], r50["n"], *lo_hi(r50["ci95"])],
        ["mean_change_1min_kg_cm2", imm["mean_change_1min"], imm["sessions"], "", ""],
        ["mean_change_15min_kg_cm2", imm["mean_change_15min"], imm["sessions_15min"], "", ""],
        ["responding_share", imm["responding_share"], imm["sessions"],
         *lo_hi(imm["responding_ci95"])],
        ["relief_median_days", relief["median"], relief["sessions"], *ci],
        ["sessions_to_response_median", report["sessions_to_response"]["median"],
         report["sessions_to_response"]["n"], *lo_hi(report["sessions_to_response"]["ci95"])],
        ["adverse_events", ae["count"], report["sessions"], "", ""],
        ["serious_adverse_events", ae["serious"], report["sessions"], "", ""],
        ["adverse_events_per_100_sessions", ae["per_100_sessions"], report["sessions"], "", ""],
        ["drop_out_after_first_rate", drop["rate"], drop["of"], *lo_hi(drop["ci95"])],
    ]  # fmt: skip


def _breakdown_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    out: list[list[Any]] = [
        [
            "group", "patients", "sessions", "eligible", "responders_30", "responders_30_rate",
            "ci95_low", "ci95_high", "mean_change_1min_kg_cm2", "responding_share",
            "relief_median_days", "adverse_events_per_100_sessions",
        ]
    ]  # fmt: skip
    for row in rows:
        r = row["report"]
        ci = r["responders_30"]["ci95"] or [None, None]
        out.append(
            [
                row["label"], r["patients"], r["sessions"], r["eligible"],
                r["responders_30"]["n"], r["responders_30"]["rate"], *ci,
                r["immediate"]["mean_change_1min"], r["immediate"]["responding_share"],
                r["relief_days"]["median"], r["adverse_events"]["per_100_sessions"],
            ]
        )  # fmt: skip
    return out


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@require_GET
@login_required
@audit_refusals(object_type="outcomes")
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    require_dashboard(request.user)
    clinic_id = request.user.clinic_id
    table = request.GET.get("table", "summary")
    if table not in TABLES:
        return HttpResponse(
            f"Unknown table; choose one of {', '.join(TABLES)}.",
            status=400,
            content_type="text/plain",
        )
    form = OutcomeFilterForm({k: v for k, v in request.GET.items() if k != "table"})
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain",
        )
    if table.startswith("by_"):
        dimension = table[3:]
        tables = breakdowns(
            form.filters(clinic_id), [dimension], threshold_kg_cm2=form.threshold_kg_cm2
        )
        rows = _breakdown_rows(tables[0]["rows"])
    else:
        report = _compute(form, clinic_id)
        if table == "summary":
            rows = _summary_rows(report)
        elif table == "claims":
            rows = [["claim", "source", "measure", "claimed_low", "claimed_high", "measured",
                     "ci95_low", "ci95_high", "n", "verdict"]]  # fmt: skip
            for c in report["claims"]:
                ci = c["ci95"] or [None, None]
                rows.append(
                    [c["claim"], c["source"], c["measure"], *c["claimed"], c["measured"], *ci,
                     c["n"], c["verdict"]]
                )  # fmt: skip
        else:
            rows = [["days", "survival"], *report["relief_days"]["curve"]]
    audit_record(
        request=request, action=Action.EXPORT, object_type="outcomes", detail={"table": table}
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{table}.csv"'
    return response


@require_GET
@login_required
@audit_refusals(object_type="patient", id_kwarg="patient_id")
def progress(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.user.role == Role.PATIENT:
        raise PermissionDenied("The progress page is for the patient's practitioners.")
    require_clinician(request.user)
    patient = get_patient_for_user(request.user, patient_id)
    audit_record(request=request, action=Action.READ, target=patient)
    with timezone.override(clinic_zone(request.user)):
        context = {
            "patient": patient,
            "progress": patient_progress(patient, clinic_zone(request.user)),
        }
        return render(request, "outcomes/progress.html", context)
