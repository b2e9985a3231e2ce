"""The outcome dashboard's breakdown table arrives after the page, in a real browser: with the
page's script (no console or CSP error), and without script through the plain link."""

from __future__ import annotations

import pytest

from prolotrack.accounts.models import Role
from prolotrack.outcomes.queries import outcomes_compute
from tests.browser.conftest import screenshot, sign_in_through_form
from tests.conftest import PASSWORD, make_user
from tests.outcomes.helpers import synth_clinic_load

pytestmark = pytest.mark.browser


def _watch(page: object) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    # A CSP violation (an inline style or script) is reported as a console error.
    page.on(  # type: ignore[attr-defined]
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" else None
    )
    return errors


@pytest.fixture
def clinic(db):
    return synth_clinic_load("Breakdown Clinic", seed=5, patients=20)


def test_the_breakdown_appears_after_the_page(clinic, live_server, page):
    errors = _watch(page)
    doctor = make_user(clinic, "bddoc", Role.PHYSICIAN)
    sign_in_through_form(page, live_server, doctor, PASSWORD)

    page.goto(live_server.url + "/outcomes/")
    table = page.locator("[data-breakdown-url] table")
    table.wait_for()
    expected = {
        label: outcomes_compute(clinic, modality=value)["sessions"]
        for label, value in (("Neural prolotherapy", "neural"), ("Classic prolotherapy", "classic"))
    }
    for label, sessions in expected.items():
        row = table.locator("tr", has=page.locator(f"th:text-is('{label}')"))
        assert row.locator("td").nth(1).inner_text() == str(sessions)
    assert page.locator("[data-breakdown-url][aria-busy]").count() == 0
    assert page.get_by_text("Loading the breakdown").count() == 0

    # Another breakdown with a filter: the table follows the form.
    page.select_option("#id_by", "region")
    page.select_option("#id_modality", "neural")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/outcomes/?*by=region*")
    assert page.locator("#by-region-h").inner_text() == "By region"
    page.locator("[data-breakdown-url] table").wait_for()
    shown = page.locator("[data-breakdown-url] tbody td:nth-child(3)").all_inner_texts()
    assert sum(map(int, shown)) == outcomes_compute(clinic, modality="neural")["sessions"]
    screenshot(page, "outcomes-dashboard-breakdown")
    assert errors == []


def test_when_the_breakdown_cannot_be_loaded_the_page_says_so_and_keeps_the_link(
    clinic, live_server, page
):
    errors = _watch(page)
    doctor = make_user(clinic, "faildoc", Role.PHYSICIAN)
    sign_in_through_form(page, live_server, doctor, PASSWORD)
    page.route("**/outcomes/breakdown/**", lambda route: route.abort())
    page.goto(live_server.url + "/outcomes/")
    alert = page.locator("[data-breakdown-url] [role=alert]")
    alert.wait_for()
    assert "could not be loaded" in alert.inner_text()
    assert page.locator("a:has-text('Show the breakdown by modality')").count() == 1
    assert page.locator("[data-breakdown-url][aria-busy]").count() == 0
    # The aborted request is the browser's own console error; nothing else went wrong.
    assert [e for e in errors if "ERR_FAILED" not in e] == []


def test_without_script_the_link_opens_the_breakdown(clinic, live_server, browser):
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = _watch(page)
    try:
        doctor = make_user(clinic, "nojsdoc", Role.PHYSICIAN)
        sign_in_through_form(page, live_server, doctor, PASSWORD)
        page.goto(live_server.url + "/outcomes/?by=practitioner")
        assert page.locator("[data-breakdown-url] table").count() == 0
        page.click("a:has-text('Show the breakdown by practitioner')")
        page.wait_for_url("**/outcomes/breakdown/?by=practitioner")
        assert page.locator("h1").inner_text().endswith("by practitioner")
        rows = page.locator("main table tbody tr")
        assert rows.count() > 1
        page.click("a:has-text('Back to the dashboard')")
        page.wait_for_url("**/outcomes/?by=practitioner")
        assert errors == []
    finally:
        context.close()
