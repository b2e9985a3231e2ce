"""A practitioner filters the outcome dashboard and downloads the outcome report (PDF) with the
same filters, in a real browser."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from prolotrack.audit.models import AuditEvent
from prolotrack.outcomes.queries import outcomes_compute
from tests.browser.conftest import screenshot, sign_in_through_form
from tests.conftest import PASSWORD
from tests.treatment.charting_helpers import record_session

pytestmark = pytest.mark.browser


def test_a_physician_downloads_the_filtered_outcome_report(world, live_server, page, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A CSP violation (an inline style or script) is reported as a console error.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    record_session(world)

    sign_in_through_form(page, live_server, world.physician, PASSWORD)
    page.goto(live_server.url + "/outcomes/")
    page.select_option("#id_modality", "neural")
    page.select_option("#id_by", "period")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/outcomes/?*modality=neural*")
    screenshot(page, "outcomes-dashboard-report-button")

    with page.expect_download() as download:
        page.click("button:has-text('Download outcome report (PDF)')")
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert download.value.suggested_filename.startswith("outcome-report-harbour-prolotherapy-")

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    report = outcomes_compute(world.clinic, modality="neural")
    assert f"Patients {report['patients']} Sessions {report['sessions']}" in text
    assert "Modality Neural prolotherapy" in text and "By quarter" in text
    assert world.patient.full_name not in text and world.patient.chart_number not in text
    event = AuditEvent.objects.get(action="print")
    assert (event.object_type, event.user_id) == ("outcomes", world.physician.pk)
    assert "modality=neural" in event.detail["filters"]
    assert errors == []
