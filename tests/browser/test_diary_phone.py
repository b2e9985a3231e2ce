"""The diary on a 360-pixel phone: a patient signs in by link and reports fever with intense
pain; a practitioner sees the alert on the clinic's board and acknowledges it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from prolotrack.diary.models import Alert, DiaryEntry
from prolotrack.diary.services.signin import sign_in_link_create
from tests.browser.conftest import screenshot
from tests.conftest import login_verified
from tests.diary.conftest import session_on, today_in_clinic

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _watch(page, errors):
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)


def _staff_cookie(user, url):
    client = Client()
    login_verified(client, user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": url}


def test_a_patient_reports_fever_on_a_phone_and_the_clinic_acknowledges_the_alert(
    world, live_server, browser
):
    errors: list[str] = []
    session_on(world, today_in_clinic() - dt.timedelta(days=2), pain_before=6)
    token = sign_in_link_create(patient=world.patient, user=world.patient_user, now=timezone.now())

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(10_000)
    _watch(page, errors)

    # The link from the email: a button, then the diary.
    page.goto(f"{live_server.url}/diary/signin/{token}/")
    page.click("button:has-text('Sign in to my diary')")
    page.wait_for_url("**/diary/")
    assert page.locator("h1").inner_text().startswith("How are you today")

    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # An emergency answer shows the emergency message at once; unticking hides it again.
    saddle = page.locator("input[name=side_effects][value=saddle_numbness]")
    assert page.locator("#emergency-now").is_hidden()
    saddle.check()
    assert page.locator("#emergency-now").is_visible()
    saddle.uncheck()
    assert page.locator("#emergency-now").is_hidden()

    # Pain 8 with a thumb, fever ticked.
    area = f"#f-area-{world.series.pk}"
    button = page.locator(f"{area} label.tap:has(input[value='8'])")
    box = button.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44  # a thumb-sized target
    button.click()
    page.locator("input[name=side_effects][value=fever]").check()
    page.locator("input[name=pain_back][value=no]").check()
    screenshot(page, "diary-phone-entry")
    page.click('button:has-text("Save today\'s entry")')
    page.wait_for_url("**/diary/entries/*/")
    assert "Call the clinic today" in page.locator("main").inner_text()
    screenshot(page, "diary-phone-saved")

    entry = DiaryEntry.objects.get(patient=world.patient)
    assert (entry.pain, entry.side_effects, entry.pain_back) == (8, ["fever"], False)
    alert = Alert.objects.get(entry=entry)
    assert (alert.level, alert.rule_code) == ("urgent", "urgent.infection")
    phone.close()

    # The practitioner's board, on a phone too.
    desk = browser.new_context(viewport=PHONE)
    desk.add_cookies([_staff_cookie(world.physician, live_server.url)])
    board = desk.new_page()
    board.set_default_timeout(10_000)
    _watch(board, errors)
    board.goto(f"{live_server.url}/diary/alerts/")
    card = board.locator(f"#alert-{alert.pk}")
    assert "Urgent" in card.inner_text() and "Avery Example" in card.inner_text()
    screenshot(board, "diary-alert-board")
    card.locator("textarea[name=note]").fill("Called the patient; infection screen booked today.")
    card.locator("button:has-text('Acknowledge')").click()
    board.wait_for_selector(f"#alert-{alert.pk} .ack-done")
    assert "Acknowledged" in board.locator(f"#alert-{alert.pk}").inner_text()
    desk.close()

    alert.refresh_from_db()
    assert alert.acknowledged_by == world.physician
    assert alert.acknowledged_note == "Called the patient; infection screen booked today."
    assert errors == []
