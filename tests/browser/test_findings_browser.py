"""The safety panel in a real browser: findings follow the body map and the rows, live."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from prolotrack.patients.models import Patient
from prolotrack.treatment.models import Injection, Session
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

LEFT = '.bm-dot[aria-label="Saphenous nerve at the medial knee, left"]'
RIGHT = '.bm-dot[aria-label="Saphenous nerve at the medial knee, right"]'
PANEL = "#findings-panel"
ALLERGY = f'{PANEL} [data-finding="allergy.local_anaesthetic"]'


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_a_lidocaine_row_for_an_allergic_patient_blocks_live_and_the_save_is_refused(
    world, live_server, page
):
    from playwright.sync_api import expect

    Patient.objects.filter(pk=world.patient.pk).update(allergies=["local_anaesthetic"])
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A CSP violation (an inline style or script, an eval) is reported as a console error.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, world.naturopath)
    page.goto(live_server.url + reverse("treatment:session_new", args=[world.series.pk]))
    page.evaluate("window.notReloaded = true")
    assert "No red-flag screening is recorded" in page.inner_text(PANEL)

    # Rows added on the body map refresh the panel's totals: no input event of their own.
    page.click(LEFT)
    page.click(RIGHT)
    expect(page.locator(f"{PANEL} [data-total=volume]")).to_have_text("1 ml")
    assert page.locator(ALLERGY).count() == 0

    # Lidocaine on one row: the allergy blocks, at once.
    page.fill("#injections-0-lidocaine_pct", "1")
    page.keyboard.press("Tab")
    page.wait_for_selector(ALLERGY)
    finding = page.locator(ALLERGY)
    assert finding.get_attribute("data-severity") == "block"
    assert finding.locator(".finding-label").inner_text() == "Stop"
    assert "Remove the lidocaine" in finding.inner_text()
    assert "5 mg of" in page.inner_text(f"{PANEL} [data-total=lidocaine]")
    assert "Only a physician can override a Stop" in page.inner_text(PANEL)
    assert page.evaluate("window.notReloaded") is True
    # The source is one click away.
    finding.locator("summary").click()
    assert "domain.2.3" in finding.locator(".finding-source p").inner_text()
    screenshot(page, "session-findings-block")

    page.click("button[name=save] >> nth=0")
    page.wait_for_selector("#safety-summary")
    assert "Nothing was saved" in page.inner_text("#safety-summary")
    assert page.locator(ALLERGY).count() == 1
    # Still on the form, with the rows as typed; nothing stored.
    assert page.input_value("#injections-0-lidocaine_pct") == "1"
    assert Session.objects.count() == 0 and Injection.objects.count() == 0

    # Taking the lidocaine out clears the stop, live again.
    page.fill("#injections-0-lidocaine_pct", "0")
    page.keyboard.press("Tab")
    page.wait_for_selector(ALLERGY, state="detached")
    assert errors == []


def test_a_physicians_override_survives_the_live_updates_and_saves(world, live_server, page):
    from playwright.sync_api import expect

    Patient.objects.filter(pk=world.patient.pk).update(allergies=["local_anaesthetic"])
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, world.physician)
    page.goto(live_server.url + reverse("treatment:session_new", args=[world.series.pk]))

    page.click(LEFT)
    page.fill("#injections-0-lidocaine_pct", "0.5")
    page.keyboard.press("Tab")
    page.wait_for_selector("#id_override_reason")
    reason = "Allergy test was negative last month; the patient chose lidocaine."
    page.fill("#id_override_reason", reason)
    # Another change refreshes the panel; what was typed in the reason stays.
    page.fill("#injections-0-volume_ml", "0.4")
    page.keyboard.press("Tab")
    expect(page.locator(f"{PANEL} [data-total=volume]")).to_have_text("0.4 ml")
    assert page.input_value("#id_override_reason") == reason

    page.click("button[name=save] >> nth=0")
    page.wait_for_url("**/sessions/*/")
    session = Session.objects.get()
    assert session.override_reason == reason and session.override_by == world.physician
    assert session.override_codes == ["allergy.local_anaesthetic"]
    assert "overridden by a physician" in page.inner_text("#override")
    assert errors == []
