"""The clinic's outcome report (PDF): the dashboard's numbers with its filters, aggregates only,
for the dashboard's roles, audited as a print; and `prolotrack outcomes --format pdf`."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from prolotrack.accounts.models import Clinic, Role
from prolotrack.audit.models import AuditEvent
from prolotrack.core import outcomes as core
from prolotrack.core.synth import PRACTITIONERS
from prolotrack.interop.clinic_report import (
    breakdown_rows,
    clinic_report_context,
    clinic_today,
    render_clinic_report_html,
    render_clinic_report_pdf,
    summary_rows,
)
from prolotrack.outcomes.queries import outcomes_compute
from prolotrack.patients.models import Patient
from tests.conftest import login_verified, make_user
from tests.outcomes.helpers import synth_clinic_load
from tests.treatment.charting_helpers import record_session

pytestmark = pytest.mark.django_db

URL = "/outcomes/report.pdf"
VERDICTS = {
    "consistent": "Consistent",
    "not_consistent": "Not consistent",
    "insufficient_data": "Not enough data",
    "not_applicable": "Not applicable",
}
NEURAL_SUMMER = {"modality": "neural", "date_from": "2026-06-01", "date_to": "2026-10-31"}


def pdf_text(data: bytes) -> str:
    """The PDF's text with every run of white space as one space (table cells wrap)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def outcomes_json(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("outcomes", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def expected_strings(report: dict[str, Any]) -> list[str]:
    """The numbers of an ``outcomes_compute`` report as the PDF prints them."""

    def pct(part: dict[str, Any]) -> list[str]:
        if part["rate"] is None:
            return []
        low, high = part["ci95"]
        return [
            f"{part['n']} of {part['of']}, {100 * part['rate']:.0f}%",
            f"{100 * low:.0f}-{100 * high:.0f}%",
        ]

    imm, relief = report["immediate"], report["relief_days"]
    ae = report["adverse_events"]
    found = [
        f"Patients {report['patients']}",
        f"Sessions {report['sessions']}",
        f"baseline at least 1) {report['eligible']}",
        *pct(report["responders_30"]),
        *pct(report["responders_50"]),
        *pct(report["drop_out_after_first"]),
        f"{ae['count']} ({ae['serious']} serious)",
        f"{ae['per_100_sessions']:g} per 100 sessions",
        f"{relief['sessions']} sessions, pain back after {relief['events']}",
    ]
    if imm["mean_change_1min"] is not None:
        low, high = imm["mean_change_1min_ci95"]
        found += [f"{_g(imm['mean_change_1min'])} kg/cm²", f"{_g(low)} to {_g(high)} kg/cm²"]
    if imm["mean_change_15min"] is not None:
        found.append(f"{_g(imm['mean_change_15min'])} kg/cm²")
    if relief["median"] is not None:
        days = "day" if relief["median"] == 1 else "days"
        found.append(f"Median relief (Kaplan-Meier) {relief['median']:g} {days}")
    for claim in report["claims"]:
        # One row of the claims table: claimed range, measured, interval, n and verdict.
        low, high = claim["claimed"]
        claimed = f"at least {low:g}" if high is None else f"{low:g} to {high:g}"
        measured = "—" if claim["measured"] is None else _g(claim["measured"])
        ci = claim["ci95"]
        interval = "—" if not ci or ci[0] is None else f"{_g(ci[0])} to {_open(ci[1])}"
        verdict = VERDICTS[claim["verdict"]]
        found.append(f"{claimed} {measured} {interval} {claim['n']} {verdict}")
    return found


def _open(value: float | None) -> str:
    return "open" if value is None else _g(value)


def _g(value: float) -> str:
    """A number as printed: shortest form, and a mean rounded to -0.0 as 0."""
    return f"{value + 0.0:g}"


def assert_holds(text: str, report: dict[str, Any]) -> None:
    missing = [s for s in expected_strings(report) if s not in text]
    assert not missing, f"not in the PDF: {missing}"


@pytest.fixture
def lakeside() -> Clinic:
    return synth_clinic_load("Lakeside", seed=11, patients=40)


@pytest.fixture
def lakeside_doctor(lakeside: Clinic) -> Client:
    client = Client()
    login_verified(client, make_user(lakeside, "lakedoc", Role.PHYSICIAN))
    return client


# -- the numbers --------------------------------------------------------------------------------


def test_it_prints_the_numbers_of_outcomes_compute_and_the_cli_json(lakeside):
    report = outcomes_compute(lakeside)
    assert report == outcomes_json("--clinic", "Lakeside")
    context = clinic_report_context(lakeside)
    assert context["report"] == report
    text = pdf_text(render_clinic_report_pdf(context))
    assert "Lakeside" in text and "Outcome report" in text
    assert_holds(text, report)
    # A clinic of 40 generated patients judges some claims: not every verdict is undecided.
    assert {c["verdict"] for c in report["claims"]} - {"insufficient_data", "not_applicable"}
    assert "How long relief lasts" in text and "Days after the session" in text  # the chart
    for heading in ("By modality", "By region", "Limits of these data", "How the numbers"):
        assert heading in text
    assert "not evidence that the treatment works" in text  # the disclaimer


def test_the_filters_reach_every_number_and_are_printed(lakeside):
    filters = {
        "date_from": dt.date(2026, 6, 1),
        "date_to": dt.date(2026, 10, 31),
        "modality": "neural",
        "region": None,
    }
    report = outcomes_compute(lakeside, **filters)
    assert report["sessions"] < outcomes_compute(lakeside)["sessions"]
    assert report == outcomes_json(
        "--clinic", "Lakeside", "--modality", "neural", "--from", "2026-06-01", "--to", "2026-10-31"
    )
    context = clinic_report_context(lakeside, **filters, by="period")
    assert context["report"] == report
    first, last = context["span"]
    assert dt.date(2026, 6, 1) <= first <= last <= dt.date(2026, 10, 31)
    text = pdf_text(render_clinic_report_pdf(context))
    assert_holds(text, report)
    assert "Sessions from 2026-06-01" in text and "Sessions to 2026-10-31" in text
    assert "Modality Neural prolotherapy" in text
    assert "Breakdowns Modality, Region, Quarter" in text and "By quarter" in text
    assert f"sessions dated {first.isoformat()} to {last.isoformat()}" in text


def test_the_threshold_and_region_filters_apply(lakeside):
    report = outcomes_compute(lakeside, region="knee", threshold_kg_cm2=0.5)
    context = clinic_report_context(lakeside, region="knee", threshold_kg_cm2=0.5)
    assert context["report"] == report
    text = pdf_text(render_clinic_report_pdf(context))
    assert "Region Knee" in text
    assert "Sessions whose 1-minute rise reached 0.5 kg/cm²" in text
    assert_holds(text, report)


def test_an_empty_clinic_says_not_enough_data(world):
    context = clinic_report_context(world.other_clinic)
    assert context["report"]["sessions"] == 0
    text = pdf_text(render_clinic_report_pdf(context))
    assert "No sessions match these filters yet" in text
    assert "no session matches these filters" in text
    claims = context["report"]["claims"]
    assert {c["verdict"] for c in claims} == {"insufficient_data", "not_applicable"}
    undecided = [c for c in claims if c["verdict"] == "insufficient_data"]
    assert text.count("Not enough data") == len(undecided) + 1  # each such claim, and the limits
    # The claims about one modality's treatment: not judged on a selection of both.
    assert text.count("Not applicable") == len(claims) - len(undecided) == 3
    assert "there is no relief curve" in text


def test_a_small_clinic_judges_no_claim(world):
    record_session(world)
    report = outcomes_compute(world.clinic)
    assert report["sessions"] == 1
    text = pdf_text(render_clinic_report_pdf(clinic_report_context(world.clinic)))
    assert_holds(text, report)
    assert all(c["verdict"] in ("insufficient_data", "not_applicable") for c in report["claims"])
    undecided = [c for c in report["claims"] if c["verdict"] == "insufficient_data"]
    assert text.count("Not enough data") >= len(undecided)


@pytest.mark.parametrize("by", ["practitioner", "condition", "period"])
def test_no_patient_is_named_or_identified(lakeside, by):
    context = clinic_report_context(lakeside, by=by)
    html = render_clinic_report_html(context)
    text = pdf_text(render_clinic_report_pdf(context))
    staff = {name for p in PRACTITIONERS for name in (p.given_name, p.family_name)}
    patients = list(Patient.objects.filter(clinic=lakeside))
    assert len(patients) == 40
    for patient in patients:
        for name in (patient.full_name, patient.chart_number, patient.family_name):
            if name in staff:
                continue
            pattern = rf"(?<!\w){re.escape(name)}(?!\w)"
            assert not re.search(pattern, text), f"{name!r} in the PDF"
            assert not re.search(pattern, html), f"{name!r} in the HTML"
    assert "/patients/" not in html


def test_numbers_read_plainly():
    report = core.outcomes_report(core.Aggregates())
    report["relief_days"]["median"] = 1
    rows = {row["measure"]: row for row in summary_rows(report)}
    assert rows["Median relief (Kaplan-Meier)"]["value"] == "1 day"
    assert rows["Responders, 30% less pain"]["value"] == "not enough data"
    assert rows["Adverse events"]["basis"] == "no sessions"
    report["immediate"]["mean_change_1min"] = -0.0  # a mean of -0.0001, rounded
    report["patients"] = 5
    [row] = breakdown_rows({"rows": [{"label": "Knee", "report": report}]})
    assert row["change_1min"] == "0"


def test_a_breakdown_row_of_fewer_than_5_patients_shows_no_numbers():
    """The printed report leaves the clinic: a tiny group's numbers could name its patients."""
    report = core.outcomes_report(core.Aggregates())
    report.update(patients=4, sessions=9)
    report["immediate"]["mean_change_1min"] = 0.7
    report["relief_days"]["median"] = 3
    [small] = breakdown_rows({"rows": [{"label": "Cervical spine", "report": report}]})
    assert small["label"] == "Cervical spine"
    assert small["patients"] == "fewer than 5"
    assert "9" not in small.values() and "0.7" not in small.values() and "3" not in small.values()
    report["patients"] = 5
    [shown] = breakdown_rows({"rows": [{"label": "Cervical spine", "report": report}]})
    assert (shown["patients"], shown["sessions"], shown["change_1min"]) == ("5", "9", "0.7")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (see README)")
def test_every_page_renders(lakeside, tmp_path):
    path = tmp_path / "outcomes.pdf"
    path.write_bytes(render_clinic_report_pdf(clinic_report_context(lakeside, by="practitioner")))
    result = subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(str(path)).pages) >= 2


# -- the dashboard's button ---------------------------------------------------------------------


def test_the_dashboard_carries_the_button_with_its_filters(world):
    record_session(world)
    client = world.client_for(world.physician)
    page = client.get(reverse("outcomes:dashboard"), {**NEURAL_SUMMER, "by": "region"})
    body = page.content.decode()
    assert f'action="{URL}"' in body and "csrfmiddlewaretoken" in body
    for name, value in {**NEURAL_SUMMER, "by": "region"}.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in body
    assert "Download outcome report (PDF)" in body


def test_the_button_downloads_the_dashboards_numbers_and_is_audited(lakeside, lakeside_doctor):
    response = lakeside_doctor.post(URL, {**NEURAL_SUMMER, "threshold": "0.5", "by": "period"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    today = clinic_today(lakeside).isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="outcome-report-lakeside-{today}.pdf"'
    )
    report = outcomes_compute(
        lakeside,
        dt.date(2026, 6, 1),
        dt.date(2026, 10, 31),
        "neural",
        threshold_kg_cm2=0.5,
    )
    text = pdf_text(response.content)
    assert_holds(text, report)
    assert "Prepared" in text and "Lakedoc Test" in text
    [event] = AuditEvent.objects.filter(action="print")
    assert (event.object_type, event.outcome, event.patient_id) == ("outcomes", "ok", None)
    assert (event.clinic_id, event.username) == (lakeside.pk, "lakedoc")
    assert event.detail["format"] == "pdf" and event.detail["bytes"] == len(response.content)
    assert (event.detail["patients"], event.detail["sessions"]) == (
        report["patients"],
        report["sessions"],
    )
    assert event.detail["filters"] == (
        "date_from=2026-06-01 date_to=2026-10-31 modality=neural threshold=0.5 by=period"
    )


@pytest.mark.parametrize("role", ["physician", "naturopathic_doctor", "nurse", "admin", "auditor"])
def test_the_dashboards_roles_may_print(world, role):
    record_session(world)
    user = make_user(world.clinic, "aud", Role.AUDITOR) if role == "auditor" else None
    user = user or getattr(world, {"naturopathic_doctor": "naturopath"}.get(role, role))
    response = world.client_for(user).post(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Harbour Prolotherapy" in text
    assert_holds(text, outcomes_compute(world.clinic))


@pytest.mark.parametrize("who", ["front_desk", "patient_user"])
def test_front_desk_and_patients_are_refused_and_recorded(world, who):
    record_session(world)
    response = world.client_for(getattr(world, who)).post(URL)
    assert response.status_code == 403
    assert response.get("Content-Type") != "application/pdf"
    assert not AuditEvent.objects.filter(action="print").exists()
    [event] = AuditEvent.objects.filter(action="access_refused")
    assert (event.object_type, event.outcome) == ("outcomes", "refused")


def test_the_signed_out_are_sent_to_sign_in(world):
    response = Client().post(URL)
    assert response.status_code == 302 and "next=" in response["Location"]
    assert not AuditEvent.objects.filter(action="print").exists()


def test_another_clinics_physician_gets_their_own_clinics_report_only(world):
    record_session(world)
    response = world.client_for(world.other_physician).post(URL)
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Other Clinic" in text and "Harbour" not in text
    assert "Patients 0" in text and "Sessions 0" in text
    event = AuditEvent.objects.get(action="print")
    assert event.clinic_id == world.other_clinic.pk


def test_get_is_refused(world):
    response = world.client_for(world.physician).get(URL)
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="print").exists()


def test_a_post_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    login_verified(client, world.physician)
    response = client.post(URL)
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="print").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"date_from": "2026-13-01"}, "date_from", "Enter a valid date."),
        ({"date_from": "2026-10-01", "date_to": "2026-09-01"}, "date_to", "before the start"),
        ({"modality": "laser"}, "modality", "Select a valid choice."),
        ({"region": "'; DROP TABLE x; --"}, "region", "Select a valid choice."),
        ({"threshold": "0"}, "threshold", "greater than or equal to 0.1"),
        ({"threshold": "abc"}, "threshold", "Enter a number."),
        ({"by": "patient"}, "by", "Select a valid choice."),
    ],
)
def test_bad_filters_get_a_clear_400_naming_the_field(world, data, field, message):
    response = world.client_for(world.physician).post(URL, data)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "The outcome report was not made" in body
    assert f"{field}: " in body and message in body
    assert reverse("outcomes:dashboard") in body
    [event] = AuditEvent.objects.filter(action="print")
    assert (event.outcome, event.detail) == ("failed", {"fields": field})


# -- the command line ---------------------------------------------------------------------------


def test_the_command_writes_the_pdf_and_audits_a_print(lakeside, tmp_path):
    out = tmp_path / "outcomes.pdf"
    stdout = io.StringIO()
    call_command(
        "outcomes",
        "--format",
        "pdf",
        "--clinic",
        "Lakeside",
        "--modality",
        "classic",
        "--by",
        "condition",
        "--out",
        str(out),
        stdout=stdout,
    )
    assert out.read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob(".*partial"))
    text = pdf_text(out.read_bytes())
    report = outcomes_json("--clinic", "Lakeside", "--modality", "classic")
    assert_holds(text, report)
    assert "By condition" in text and "Modality Classic prolotherapy" in text
    assert f"Wrote {out}" in stdout.getvalue() and "outcome report of Lakeside" in stdout.getvalue()
    [event] = AuditEvent.objects.filter(action="print")
    assert (event.object_type, event.clinic_id, event.user_id) == ("outcomes", lakeside.pk, None)
    assert event.detail["via"] == "command" and event.detail["sessions"] == report["sessions"]


def test_the_command_without_a_clinic_reports_every_clinic(lakeside, world, tmp_path):
    record_session(world)
    out = tmp_path / "registry.pdf"
    call_command("outcomes", "--format", "pdf", "--out", str(out), stdout=io.StringIO())
    text = pdf_text(out.read_bytes())
    assert "All clinics of this database" in text
    assert_holds(text, outcomes_compute(None))
    assert AuditEvent.objects.get(action="print").clinic_id is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "--out: give the PDF file to write"),
        (["--format", "pdf", "--out", "{tmp}/no/such/folder/r.pdf"], r"--out: the folder .* does"),
        (["--format", "pdf", "--out", "{tmp}"], "--out: .* is a folder"),
        (["--format", "json", "--out", "{tmp}/r.pdf"], "--out: only with --format pdf"),
        (["--format", "text", "--by", "region"], "--by: only with --format pdf"),
        (["--format", "pdf", "--out", "{tmp}/r.pdf", "--by", "patient"], "--by: 'patient' is not"),
        (["--format", "pdf", "--out", "{tmp}/r.pdf", "--clinic", "Nowhere"], "--clinic: no clinic"),
        (["--format", "pdf", "--out", "{tmp}/r.pdf", "--from", "2026-13-01"], "--from: "),
        (["--format", "docx"], "--format: 'docx' is not json, text or pdf"),
    ],
)
def test_the_command_refuses_bad_input_naming_the_option(world, tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    with pytest.raises(CommandError, match=message) as refused:
        call_command("outcomes", *args, stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert not list(tmp_path.iterdir())
    assert not AuditEvent.objects.filter(action="print").exists()


def test_a_failed_write_leaves_no_half_written_file(world, tmp_path, monkeypatch):
    out = tmp_path / "r.pdf"

    def full_disk(self: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", full_disk)
    with pytest.raises(CommandError, match=r"--out: cannot write .*No space left on device"):
        call_command("outcomes", "--format", "pdf", "--out", str(out), stdout=io.StringIO())
    assert not list(tmp_path.iterdir())
    assert not AuditEvent.objects.filter(action="print").exists()
