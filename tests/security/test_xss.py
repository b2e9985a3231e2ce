"""T11: scripts written into any free-text field, or sent in a search or filter, render as text.

The payloads go in through the services (names, phone, session notes, injection lots,
amendments, adverse events, conditions, screenings, break-glass reasons, attempted usernames);
then every page the matrix lets a practitioner, an administrator or the front desk open is
rendered, parsed with html5lib, and searched for an element or attribute the payloads made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import html5lib
import pytest
from django.urls import reverse

from prolotrack.audit.services import audit_record_login_failed
from prolotrack.core.charting import InjectionInput
from prolotrack.patients import services as patient_services
from prolotrack.patients.break_glass import break_glass_open
from prolotrack.treatment import services
from tests.routes import Operation
from tests.security.endpoints import body, endpoints, url_of
from tests.security.matrix import MATRIX, expected
from tests.treatment.charting_helpers import SAPHENOUS, WHEN, record_session

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ENCODED = "%253Cscript%253Ealert(1)%253C%252Fscript%253E"
PAYLOADS = (SCRIPT, IMG, ENCODED)
MARK = "alert(1)"

READERS = ("physician", "clinic_admin", "front_desk")


def injected(html: str) -> list[str]:
    """Elements and attributes the payloads would make if they were not escaped."""
    document = html5lib.parse(html, namespaceHTMLElements=False)
    found = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script" and MARK in (element.text or ""):
            found.append("<script> with the payload")
        if element.tag == "img" and element.get("src") == "x":
            found.append("<img src=x>")
        found += [
            f"<{element.tag} {name}=...>"
            for name, value in element.attrib.items()
            if name.lower().startswith("on") and MARK in value
        ]
    return found


def test_the_check_finds_an_unescaped_payload():
    assert injected(f"<p>{SCRIPT}</p>") == ["<script> with the payload"]
    assert injected(f'<input value="{IMG}">') == ["<img src=x>", "<img onerror=...>"]
    assert injected("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>") == []


@pytest.fixture
def stored(actors):
    """Every free-text field of clinic A's records holding a payload."""
    world = actors.world
    patient_services.patient_update(
        patient=world.patient,
        expected_version=world.patient.version,
        given_name=SCRIPT,
        family_name=IMG,
        phone=IMG,
    )
    lot = InjectionInput(SAPHENOUS, "left", "subcutaneous", Decimal("0.5"), 27, lot=IMG)
    signed = record_session(
        world, when=WHEN + dt.timedelta(days=7), notes=SCRIPT + ENCODED, injections=[lot]
    )
    signed = services.session_sign(session=signed, user=world.physician)
    services.session_amend(session=signed, author=world.physician, text=IMG + ENCODED)
    services.adverse_event_add(
        session=signed,
        category="local_pain_flare",
        serious=False,
        onset=dt.date(2026, 11, 10),
        notes=SCRIPT,
    )
    draft = record_session(world, when=WHEN + dt.timedelta(days=14), notes=IMG, injections=[lot])
    patient_services.condition_add(
        patient=world.patient, code="neck_pain", region="neck_shoulder", notes=SCRIPT + IMG
    )
    patient_services.screening_record(
        patient=world.patient, recorded_by=world.physician, notes=SCRIPT + IMG + ENCODED
    )
    break_glass_open(user=world.outsider, patient=world.patient, reason=f"Emergency {IMG}")
    audit_record_login_failed(request=None, attempted_username=SCRIPT)
    return {"signed": signed, "draft": draft}


def pages(actors, stored) -> list[tuple[str, str]]:
    """(role, url) of every page the matrix lets a reader open, for the draft session, plus the
    signed session's page and the searches and filters that echo what was typed."""
    values = {**actors.url_values, "session_id": stored["draft"].pk}
    found = [
        (role, url_of(key, values))
        for key, methods in MATRIX.items()
        if "GET" in methods and not isinstance(endpoints().get(key), Operation)
        for role in READERS
        if expected(key, "GET")[role] == "ok"
    ]
    found.append(("physician", reverse("treatment:session_detail", args=[stored["signed"].pk])))
    for payload in PAYLOADS:
        found += [
            ("front_desk", f"{reverse('patients:list')}?q={payload}&page={payload}"),
            ("clinic_admin", f"{reverse('audit:list')}?action={payload}&user={payload}"),
            ("clinic_admin", f"{reverse('audit:list')}?page={payload}"),
        ]
    return found


def test_no_page_runs_a_stored_or_reflected_payload(actors, stored):
    clients = {role: actors.client(role) for role in READERS}
    seen = set()
    checked = 0
    for role, url in pages(actors, stored):
        response = clients[role].get(url, follow=True)
        assert response.status_code < 500, url
        if "html" not in response.get("Content-Type", ""):
            continue
        html = body(response)
        assert not injected(html), f"{url} as {role}: {injected(html)}"
        assert "Content-Security-Policy" in response
        seen |= {payload for payload in PAYLOADS if html5lib_text_has(html, payload)}
        checked += 1
    assert checked > 15
    # The payloads were shown (as text), so the pages above did render them.
    assert seen == set(PAYLOADS)


def html5lib_text_has(html: str, payload: str) -> bool:
    document = html5lib.parse(html, namespaceHTMLElements=False)
    text = "".join(document.itertext())
    values = "".join(v for e in document.iter() for v in getattr(e, "attrib", {}).values())
    return payload in text or payload in values
