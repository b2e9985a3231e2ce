"""The patient's progress report: the PDF carries the patient's numbers and renders."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from pypdf import PdfReader

from prolotrack.audit.models import AuditEvent
from prolotrack.interop.report import SUMMARY_MAX_CHARS, render_report_pdf, report_filename
from prolotrack.treatment.services import adverse_event_add
from tests.treatment.charting_helpers import record_session


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_report_holds_the_patients_numbers(world):
    session = record_session(world, pain_before=7, pain_after=3)
    text = pdf_text(render_report_pdf(world.patient, prepared_by=world.physician))
    assert "Progress report" in text
    assert world.patient.full_name in text
    assert world.patient.chart_number in text
    assert "Harbour Prolotherapy" in text
    assert "Neural prolotherapy" in text
    # The session row: date, practitioner, pains and the volume injected (2 x 0.5 mL).
    assert session.performed_at.strftime("%Y-%m-%d") in text
    assert world.physician.display_name in text
    assert "No adverse event recorded." in text
    assert "does not" in text and "replace" in text  # the disclaimer


def test_report_lists_adverse_events_and_summary(world):
    session = record_session(world)
    adverse_event_add(
        session=session,
        category="bruising_haematoma",
        serious=False,
        onset=session.performed_at.date(),
    )
    pdf = render_report_pdf(world.patient, prepared_by=world.physician, summary="Walks 2 km now.")
    text = pdf_text(pdf)
    assert "Walks 2 km now." in text
    assert "No adverse event recorded." not in text
    assert "Bruising" in text


def test_report_shows_the_relief_after_each_session(world):
    import datetime as dt
    import zoneinfo

    from prolotrack.diary.models import DiaryEntry

    session = record_session(world, pain_before=6)
    day = session.performed_at.astimezone(zoneinfo.ZoneInfo(world.clinic.time_zone)).date()
    for offset, pain in [(1, 2), (3, 6)]:
        DiaryEntry.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            entry_date=day + dt.timedelta(days=offset),
            pain=pain,
        )
    text = pdf_text(render_report_pdf(world.patient, prepared_by=world.physician))
    assert "Relief" in text
    assert "3 days" in text  # pain back at 6 on day 3


def test_report_of_a_patient_without_treatment_says_so(world):
    text = pdf_text(render_report_pdf(world.other_patient, prepared_by=None))
    assert "No treatment series recorded." in text
    assert "No condition recorded." in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (see README)")
def test_every_page_renders(world, tmp_path):
    record_session(world)
    path = tmp_path / "report.pdf"
    path.write_bytes(render_report_pdf(world.patient, prepared_by=world.physician))
    result = subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(str(path)).pages) >= 1


def test_file_name_never_holds_the_patients_name(world):
    name = report_filename(world.patient, world.series.started_on)
    assert world.patient.family_name not in name
    assert name == "progress-report-A-001-2026-10-01.pdf"


def test_command_writes_the_pdf_and_audits_a_print(world, tmp_path):
    out = tmp_path / "r.pdf"
    record_session(world)
    stdout = io.StringIO()
    call_command("report", str(world.patient.pk), "--out", str(out), stdout=stdout)
    assert out.read_bytes().startswith(b"%PDF")
    assert world.patient.full_name in pdf_text(out.read_bytes())
    assert "Wrote" in stdout.getvalue()
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id, event.outcome) == ("print", world.patient.pk, "ok")


def test_command_finds_a_chart_number_within_a_clinic(world, tmp_path):
    out = tmp_path / "r.pdf"
    call_command("report", "A-001", "--clinic", world.clinic.name, "--out", str(out))
    assert out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "no patient with id 999999"),
        (["A-001"], "is not a patient id"),
        (["B-001", "--clinic", "Harbour Prolotherapy"], "no chart number 'B-001'"),
        (["{pk}", "--summary", "x" * (SUMMARY_MAX_CHARS + 1)], "summary: at most"),
    ],
)
def test_command_refuses_bad_input_naming_the_field(world, tmp_path, args, message):
    out = tmp_path / "r.pdf"
    args = [a.format(pk=world.patient.pk) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("report", *args, "--out", str(out))
    assert not out.exists()


def test_command_refuses_a_missing_folder(world, tmp_path):
    with pytest.raises(CommandError, match=r"--out: the folder .* does not exist"):
        call_command("report", str(world.patient.pk), "--out", str(tmp_path / "no" / "r.pdf"))


def test_chart_button_downloads_the_report(world):
    record_session(world)
    client = world.client_for(world.physician)
    chart = client.get(reverse("treatment:chart", args=[world.patient.pk]))
    url = reverse("interop:patient_report", args=[world.patient.pk])
    assert url in chart.content.decode()
    response = client.post(url, {"summary": "Better on stairs."})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="progress-report-')
    assert "Better on stairs." in pdf_text(response.content)
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id, event.user_id) == (
        "print",
        world.patient.pk,
        world.physician.pk,
    )


def test_too_long_summary_is_refused_with_the_field_named(world):
    client = world.client_for(world.physician)
    url = reverse("interop:patient_report", args=[world.patient.pk])
    response = client.post(url, {"summary": "x" * (SUMMARY_MAX_CHARS + 1)})
    assert response.status_code == 400
    assert "summary: at most" in response.content.decode()


@pytest.mark.parametrize("who", ["front_desk", "admin", "patient_user"])
def test_only_practitioners_print_reports(world, who):
    client = world.client_for(getattr(world, who))
    response = client.post(reverse("interop:patient_report", args=[world.patient.pk]))
    assert response.status_code in (403, 404)
    assert response.get("Content-Type") != "application/pdf"


def test_another_clinics_patient_is_not_found(world):
    client = world.client_for(world.other_physician)
    response = client.post(reverse("interop:patient_report", args=[world.patient.pk]))
    assert response.status_code == 404


def test_get_is_not_allowed(world):
    client = world.client_for(world.physician)
    response = client.get(reverse("interop:patient_report", args=[world.patient.pk]))
    assert response.status_code == 405
