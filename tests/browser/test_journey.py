"""The whole journey of the foundation issue, as a practitioner does it in a real browser."""

from __future__ import annotations

import pytest

from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AlgometerReading, Injection, Session
from tests.browser.conftest import screenshot, sign_in_through_form
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SAPHENOUS_LEFT = '.bm-dot[aria-label="Saphenous nerve at the medial knee, left"]'


def test_a_practitioner_charts_a_session_end_to_end(world, live_server, page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )

    # Sign in through the real forms: the password, then the authenticator app's code.
    sign_in_through_form(page, live_server, world.physician, PASSWORD)
    page.wait_for_url("**/patients/")

    # A new patient.
    page.click("text=New patient")
    page.fill("#id_given_name", "Morgan")
    page.fill("#id_family_name", "Lindqvist")
    page.fill("#id_chart_number", "A-314")
    page.fill("#id_birth_date", "1968-03-09")
    page.select_option("#id_sex", "female")
    page.fill("#id_weight_kg", "64,5")
    page.click("button:has-text('Add patient')")
    page.wait_for_selector("h1:has-text('Morgan Lindqvist')")
    patient = Patient.objects.get(chart_number="A-314")
    assert page.locator("h1").inner_text().startswith("Morgan Lindqvist")

    # A neural series for the knee.
    page.click("#new-series summary")
    page.check("input[name=series-modality][value=neural]")
    page.select_option("#id_series-region", "knee")
    page.click("button:has-text('Start series')")
    series = patient.series.get()
    assert (series.modality, series.region) == ("neural", "knee")

    # Chart a session by clicking the body map.
    page.click(f"#series-{series.pk} >> text=New session")
    page.wait_for_url("**/sessions/new/")
    page.fill("#id_pain_before", "7")
    page.fill("#id_pain_after", "3")
    page.click(SAPHENOUS_LEFT)
    assert page.get_attribute(SAPHENOUS_LEFT, "aria-pressed") == "true"
    reading = page.locator("[data-reading-row]").first
    reading.locator("[data-field=baseline]").fill("2,4")
    reading.locator("[data-field='1min']").fill("3.1")
    reading.locator("[data-field='15min']").fill("3.8")
    screenshot(page, "session-form")
    page.click("button[name=save] >> nth=0")
    page.wait_for_url("**/sessions/*/")

    session = Session.objects.get(series=series)
    assert session.pain_before == 7 and not session.is_signed
    assert Injection.objects.filter(session=session).count() == 1
    assert AlgometerReading.objects.filter(session=session).count() == 3
    assert page.locator(".bm-point.is-injected").count() == 1

    # Sign it: the note is now locked.
    page.click("button:has-text('Sign session')")
    page.wait_for_selector("text=Signed by")
    session.refresh_from_db()
    assert session.signed_by == world.physician

    # The chart shows the session and the progress charts.
    page.goto(live_server.url + f"/patients/{patient.pk}/")
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 2
    assert "Pain before" in page.locator("figure.chart figcaption").first.inner_text()
    assert page.locator("text=Signed").count() >= 1
    screenshot(page, "patient-chart")
    assert errors == []
