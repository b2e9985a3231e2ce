"""The session view: what was injected, readings, signing, amendments and adverse events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from charting_helpers import CLINICIANS, SAPHENOUS, counts, record_session
from django.urls import reverse

from prolotrack.core.charting import InjectionInput, ReadingInput
from prolotrack.treatment.models import AdverseEvent, Session, SessionAmendment


def detail_url(session):
    return reverse("treatment:session_detail", args=[session.pk])


@pytest.mark.parametrize("role", CLINICIANS)
def test_it_shows_the_session_to_every_clinician(world, role):
    session = record_session(
        world,
        injections=[
            InjectionInput(SAPHENOUS, "left", "subcutaneous", Decimal("0.5"), 27, lot="L-7"),
            InjectionInput(SAPHENOUS, "right", "subcutaneous", Decimal("0.75"), 27),
        ],
        readings=[
            ReadingInput(SAPHENOUS, "left", "baseline", Decimal("35,5".replace(",", ".")), "N/cm2")
        ],
    )
    response = world.client_for(world.roles[role]).get(detail_url(session))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Tender medial knee." in body
    assert "Saphenous nerve at the medial knee" in body and "L-7" in body
    assert "5% dextrose" in body
    assert "1.25 ml" in body  # total volume
    # The reading: as entered, its unit, and in kg/cm2 (35.5 N/cm2 = 3.62 kg/cm2).
    assert "35.5" in body and "N/cm²" in body and "3.62" in body
    # The map shows the two injected dots and nothing else; it is a picture, not buttons.
    assert body.count('class="bm-point is-injected"') == 2
    assert 'role="button"' not in body
    assert "Body map, sites injected: Saphenous nerve at the medial knee, left;" in body
    assert "Sign session" in body


@pytest.mark.parametrize(
    ("role", "status"),
    [("front_desk", 403), ("clinic_admin", 403), ("patient", 404), ("other_clinic_physician", 404)],
)
def test_it_refuses_the_session_and_its_actions_to_everyone_else(world, role, status):
    session = record_session(world)
    client = world.client_for(world.roles[role])
    response = client.get(detail_url(session))
    assert response.status_code == status
    assert b"Tender medial knee" not in response.content
    posts = {
        "session_sign": {},
        "session_amend": {"amend-text": "Added."},
        "adverse_event_add": {"ae-category": "local_pain_flare", "ae-onset": "2026-11-02"},
    }
    for name, data in posts.items():
        assert (
            client.post(reverse(f"treatment:{name}", args=[session.pk]), data).status_code == status
        )
    session.refresh_from_db()
    assert not session.is_signed
    assert not SessionAmendment.objects.exists() and not AdverseEvent.objects.exists()


def test_it_signs_a_session_once(world):
    session = record_session(world)
    client = world.client_for(world.naturopath)
    response = client.post(reverse("treatment:session_sign", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.signed_by == world.naturopath and session.signed_at is not None
    page = client.get(detail_url(session)).content.decode()
    assert f"Signed by {world.naturopath.display_name} on" in page
    assert "Sign session" not in page and "Edit draft" not in page
    assert 'id="amend"' in page
    signed_at = session.signed_at
    client.post(reverse("treatment:session_sign", args=[session.pk]))
    session.refresh_from_db()
    assert session.signed_at == signed_at
    assert "already signed" in client.get(detail_url(session)).content.decode()


def test_it_refuses_signing_by_get(world):
    session = record_session(world)
    response = world.client_for(world.physician).get(
        reverse("treatment:session_sign", args=[session.pk])
    )
    assert response.status_code == 405
    session.refresh_from_db()
    assert not session.is_signed


def test_it_adds_amendments_under_the_untouched_original(world):
    session = record_session(world, signed=True)
    client = world.client_for(world.nurse)
    response = client.post(
        reverse("treatment:session_amend", args=[session.pk]),
        {"amend-text": "Patient reported <b>bruising</b> the next day."},
    )
    assert response.status_code == 302
    amendment = SessionAmendment.objects.get()
    assert amendment.author == world.nurse and amendment.session == session
    session.refresh_from_db()
    assert session.notes == "Tender medial knee." and session.injections.count() == 2
    page = client.get(detail_url(session)).content.decode()
    assert page.index("Tender medial knee.") < page.index("Patient reported")
    assert "&lt;b&gt;bruising&lt;/b&gt;" in page
    assert world.nurse.display_name in page


def test_it_refuses_an_empty_amendment_with_the_message_by_the_field(world):
    session = record_session(world, signed=True)
    response = world.client_for(world.physician).post(
        reverse("treatment:session_amend", args=[session.pk]), {"amend-text": "   "}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_amend-text-error"' in body
    assert not SessionAmendment.objects.exists()


def test_it_does_not_amend_a_draft(world):
    session = record_session(world)
    response = world.client_for(world.physician).post(
        reverse("treatment:session_amend", args=[session.pk]), {"amend-text": "Extra."}
    )
    assert response.status_code == 200
    assert "Edit the session itself until it is signed." in response.content.decode()
    assert not SessionAmendment.objects.exists()


def test_it_records_an_adverse_event_even_after_signing(world):
    session = record_session(world, signed=True)
    client = world.client_for(world.physician)
    response = client.post(
        reverse("treatment:adverse_event_add", args=[session.pk]),
        {
            "ae-category": "vasovagal_syncope",
            "ae-serious": "on",
            "ae-onset": "2026-11-02",
            "ae-resolved_on": "2026-11-02",
            "ae-notes": "Fainted briefly after the last injection.",
        },
    )
    assert response.status_code == 302
    event = AdverseEvent.objects.get()
    assert (event.category, event.serious, event.onset, event.resolved_on) == (
        "vasovagal_syncope",
        True,
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 2),
    )
    assert event.clinic_id == world.clinic.pk and event.session == session
    page = client.get(detail_url(session)).content.decode()
    assert "Vasovagal reaction or syncope" in page and "Serious" in page


@pytest.mark.parametrize(
    ("changes", "error_id"),
    [
        ({"ae-category": "made_up"}, "id_ae-category-error"),
        ({"ae-resolved_on": "2026-11-01"}, "id_ae-resolved_on-error"),
        ({"ae-onset": "2999-01-01", "ae-resolved_on": ""}, "id_ae-onset-error"),
        ({"ae-onset": ""}, "id_ae-onset-error"),
        ({"ae-onset": "2026-10-01", "ae-resolved_on": ""}, "id_ae-onset-error"),
    ],
)
def test_it_refuses_a_bad_adverse_event_with_the_message_by_the_field(world, changes, error_id):
    session = record_session(world)
    data = {
        "ae-category": "local_pain_flare",
        "ae-onset": "2026-11-02",
        "ae-resolved_on": "2026-11-05",
    }
    data.update(changes)
    response = world.client_for(world.physician).post(
        reverse("treatment:adverse_event_add", args=[session.pk]), data
    )
    assert response.status_code == 200
    assert f'id="{error_id}"' in response.content.decode()
    assert counts() == (1, 2, 2, 0)


def test_it_escapes_notes(world):
    session = record_session(world, notes="<script>alert('x')</script>")
    body = world.client_for(world.physician).get(detail_url(session)).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_it_shows_a_session_without_injections_plainly(world):
    session = record_session(world, injections=[], readings=[])
    body = world.client_for(world.physician).get(detail_url(session)).content.decode()
    assert "No injection was charted in this session." in body
    assert "No algometer reading in this session." in body
    assert Session.objects.count() == 1
