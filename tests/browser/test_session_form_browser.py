"""The session form in a real browser: the body map adds rows, by mouse and by keyboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prolotrack.core.charting import InjectionInput
from prolotrack.treatment import services
from prolotrack.treatment.models import AlgometerReading, Injection, Session

pytestmark = pytest.mark.browser

LEFT = '.bm-dot[aria-label="Saphenous nerve at the medial knee, left"]'
RIGHT = '.bm-dot[aria-label="Saphenous nerve at the medial knee, right"]'


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_it_charts_a_session_from_the_body_map(world, live_server, page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, world.physician)
    page.goto(live_server.url + reverse("treatment:session_new", args=[world.series.pk]))

    page.click(LEFT)
    rows = page.locator("[data-injection-row]")
    assert rows.count() == 1
    assert page.locator("[data-injection-row] [data-field=volume_ml]").input_value() == "0.5"
    assert page.get_attribute(LEFT, "aria-pressed") == "true"

    # The keyboard works too: Tab to a dot, Space chooses it.
    page.focus(RIGHT)
    page.keyboard.press("Space")
    assert rows.count() == 2
    assert page.locator("[data-reading-row]").count() == 2

    # Choosing a dot again does not add a row; it takes the focus to the row.
    page.click(LEFT)
    assert rows.count() == 2
    assert page.evaluate("document.activeElement.id") == "injections-0-volume_ml"

    page.fill("#id_pain_before", "6")
    page.fill("[data-reading-row] >> nth=0 >> [data-field=baseline]", "2,5")

    # "Show all regions" reveals the other regions' points.
    face = '.bm-dot[aria-label="Supraorbital nerve, left"]'
    assert not page.is_visible(face)
    page.check("[data-bodymap-toggle]")
    assert page.is_visible(face)
    page.uncheck("[data-bodymap-toggle]")

    page.click("[data-injection-row] >> nth=1 >> [data-remove-row]")
    assert rows.count() == 1
    assert page.get_attribute(RIGHT, "aria-pressed") == "false"
    assert page.locator("[data-total-volume]").inner_text() == "0.5 ml"

    page.click("button[name=save] >> nth=0")
    page.wait_for_url("**/sessions/*/")
    assert errors == []
    session = Session.objects.get()
    assert session.pain_before == 6
    injection = Injection.objects.get()
    assert (injection.site, injection.side, injection.volume_ml) == (
        "n_saphenous_medial_knee",
        "left",
        Decimal("0.50"),
    )
    assert AlgometerReading.objects.get().value == Decimal("2.5")
    assert page.locator(".bm-point.is-injected").count() == 1


def test_it_copies_the_last_sessions_sites_in_place(world, live_server, page):
    services.session_record(
        series=world.series,
        practitioner=world.physician,
        performed_at=timezone.now() - dt.timedelta(days=7),
        pain_before=6,
        injections=[
            InjectionInput("n_saphenous_medial_knee", side, "subcutaneous", Decimal("0.5"), 27)
            for side in ("left", "right")
        ],
    )
    sign_in(page, live_server, world.nurse)
    page.goto(live_server.url + reverse("treatment:session_new", args=[world.series.pk]))
    page.click("[data-copy-last]")
    assert page.locator("[data-injection-row]").count() == 2
    assert page.locator(".bm-dot[aria-pressed=true]").count() == 2
    # Nothing was posted: the page did not reload and nothing was stored.
    assert Session.objects.count() == 1
