"""A clinic administrator deactivates a staff account on the Staff accounts page, in a real
browser; the staff member's open session ends at once."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from prolotrack.accounts.models import User
from prolotrack.audit.models import AuditEvent
from tests.browser.conftest import screenshot, sign_in_through_form
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_an_admin_deactivates_a_nurse_whose_open_session_ends(world, live_server, page, browser):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A CSP violation (an inline style or script) is reported as a console error.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # The nurse is signed in on another device.
    client = Client()
    client.force_login(world.nurse)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    nurse = browser.new_context()
    nurse.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    nurse_page = nurse.new_page()
    nurse_page.goto(live_server.url + "/patients/")
    assert nurse_page.locator("h1").inner_text() == "Patients"

    sign_in_through_form(page, live_server, world.admin, PASSWORD)
    page.click("nav[aria-label=Main] >> text=Staff accounts")
    page.wait_for_selector("h1:has-text('Staff accounts')")
    row = page.locator('tr[data-account="np"]')
    assert "Active" in row.locator("[data-state]").inner_text()
    row.get_by_role("link", name="Deactivate Np Test").click()
    page.wait_for_selector("h1:has-text('Deactivate Np Test')")
    assert "Every session of Np Test ends at once" in page.inner_text("main")

    # Without a reason: refused, the field named, nothing changed.
    page.click("button:has-text('Deactivate the account')")
    page.wait_for_selector(".errorlist")
    assert "Reason: Give the reason for this change." in page.inner_text(".errorlist")
    assert User.objects.get(pk=world.nurse.pk).is_active

    page.fill("#id_reason", "Left the clinic at the end of November")
    screenshot(page, "user-admin-deactivate")
    page.click("button:has-text('Deactivate the account')")
    page.wait_for_selector(".msg-success")
    assert "Np Test is deactivated" in page.inner_text(".msg-success")
    assert "Deactivated" in page.locator('tr[data-account="np"] [data-state]').inner_text()
    assert page.locator('tr[data-account="np"]').get_by_role("link", name="Reactivate Np Test")
    screenshot(page, "user-admin-list")
    assert not User.objects.get(pk=world.nurse.pk).is_active
    event = AuditEvent.objects.filter(action="change", object_id=str(world.nurse.pk)).get()
    assert event.detail["reason"] == "Left the clinic at the end of November"

    # The nurse's next request: the sign-in page, not the patients.
    nurse_page.goto(live_server.url + "/patients/")
    assert "/login/" in nurse_page.url
    assert nurse_page.locator("#id_username").count() == 1
    nurse.close()
    # The refused form's 400 is logged by the browser as a failed load: expected, not an error.
    assert [e for e in errors if "status of 400" not in e] == []
