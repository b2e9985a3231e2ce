"""The session form: recording, bad input re-rendered inline with nothing stored, editing,
signed notes refused, stale edits, row buttons without JavaScript, and who may open it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from charting_helpers import (
    CLINICIANS,
    INFRAPATELLAR,
    MIDLINE_SITE,
    SAPHENOUS,
    counts,
    post_acknowledged,
    record_session,
    session_post,
)
from django.test import Client
from django.urls import reverse

from prolotrack.accounts.models import Clinic
from prolotrack.core import units
from prolotrack.treatment.models import AlgometerReading, Injection, Session


def new_url(world):
    return reverse("treatment:session_new", args=[world.series.pk])


def edit_url(session):
    return reverse("treatment:session_edit", args=[session.pk])


# Who may open it -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", CLINICIANS)
def test_it_renders_the_new_and_edit_forms_for_every_clinician(world, role):
    session = record_session(world)
    client = world.client_for(world.roles[role])
    new = client.get(new_url(world)).content.decode()
    assert "data-session-form" in new and 'name="csrfmiddlewaretoken"' in new
    assert 'role="button"' in new and 'aria-label="Saphenous nerve at the medial knee, left"' in new
    assert 'tabindex="0"' in new
    assert "Copy last session's sites (2)" in new
    edit = client.get(edit_url(session))
    body = edit.content.decode()
    assert edit.status_code == 200
    assert 'name="injections-0-site" value="n_saphenous_medial_knee"' in body
    assert 'name="readings-0-baseline" value="2.5"' in body
    assert f'name="version" value="{session.version}"' in body
    assert "Tender medial knee." in body


@pytest.mark.parametrize(
    ("role", "status"),
    [("front_desk", 403), ("clinic_admin", 403), ("patient", 404), ("other_clinic_physician", 404)],
)
def test_it_refuses_the_form_to_everyone_else(world, role, status):
    session = record_session(world)
    client = world.client_for(world.roles[role])
    for url in (new_url(world), edit_url(session)):
        response = client.get(url)
        assert response.status_code == status
        assert b"Tender medial knee" not in response.content
        assert b"data-session-form" not in response.content
    before = counts()
    assert client.post(new_url(world), session_post()).status_code == status
    assert client.post(edit_url(session), session_post(version="2")).status_code == status
    assert counts() == before
    session.refresh_from_db()
    assert session.notes == "Tender medial knee." and session.version == 1


def test_it_needs_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.physician)
    response = client.post(new_url(world), session_post())
    assert response.status_code == 403
    assert counts() == (0, 0, 0, 0)


# Recording -------------------------------------------------------------------------------------


def test_it_records_injections_and_readings_from_the_form(world):
    response = post_acknowledged(world.client_for(world.nurse), new_url(world), session_post())
    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("treatment:session_detail", args=[session.pk])
    # 09:30 in Vancouver on 2 November 2026 (PST, UTC-8) is 17:30 UTC.
    assert session.performed_at == dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)
    assert (session.pain_before, session.pain_after) == (7, 3)
    assert session.practitioner == world.nurse and not session.is_signed
    first, second = session.injections.order_by("position")
    assert (first.site, first.side, first.volume_ml, first.needle_gauge, first.lot) == (
        SAPHENOUS,
        "left",
        Decimal("0.50"),
        27,
        "D5-2291",
    )
    assert (second.site, second.side, second.volume_ml, second.lidocaine_pct) == (
        INFRAPATELLAR,
        "right",
        Decimal("1.00"),
        Decimal("0"),
    )
    readings = {(r.site, r.side, r.phase): r for r in session.readings.all()}
    assert set(readings) == {
        (SAPHENOUS, "left", "baseline"),
        (SAPHENOUS, "left", "1min"),
        (INFRAPATELLAR, "right", "15min"),
    }
    baseline = readings[(SAPHENOUS, "left", "baseline")]
    assert baseline.value == Decimal("2.5") and baseline.unit == "kg/cm2"
    assert baseline.value_kpa == pytest.approx(2.5 * 98.0665)
    assert {r.clinic_id for r in readings.values()} == {world.clinic.pk}


@pytest.mark.parametrize(
    ("unit", "typed", "kpa"),
    [("N/cm2", "35,5", 355.0), ("kPa", "250", 250.0), ("kg/cm2", "4.25", 4.25 * 98.0665)],
)
def test_it_stores_readings_in_kpa_whatever_the_unit(world, unit, typed, kpa):
    post = session_post(unit=unit, **{"readings-0-baseline": typed, "readings-0-1min": ""})
    client = world.client_for(world.physician)
    assert post_acknowledged(client, new_url(world), post).status_code == 302
    reading = AlgometerReading.objects.get(phase="baseline")
    assert reading.unit == unit
    assert reading.value == Decimal(typed.replace(",", "."))
    assert reading.value_kpa == pytest.approx(kpa)


def test_it_reads_the_time_in_the_clinics_zone_across_a_dst_change(world):
    # Vancouver: PDT (UTC-7) until 1 November 2026 02:00, then PST (UTC-8).
    client = world.client_for(world.physician)
    post_acknowledged(client, new_url(world), session_post(performed_at="2026-10-31T09:30"))
    post_acknowledged(client, new_url(world), session_post(performed_at="2026-11-02T09:30"))
    times = list(Session.objects.values_list("performed_at", flat=True))
    assert times == [
        dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC),
    ]


def test_it_refuses_a_time_that_the_clocks_skipped(world):
    # 8 March 2026, 02:30 does not exist in Vancouver (clocks jump from 02:00 to 03:00).
    response = world.client_for(world.physician).post(
        new_url(world), session_post(performed_at="2026-03-08T02:30")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_performed_at-error"' in body and "clocks moved forward" in body
    assert counts() == (0, 0, 0, 0)


def test_it_uses_the_clinics_own_zone(world):
    Clinic.objects.filter(pk=world.clinic.pk).update(time_zone="Europe/Brussels")
    post_acknowledged(world.client_for(world.physician), new_url(world), session_post())
    # 09:30 in Brussels in November (CET, UTC+1) is 08:30 UTC.
    assert Session.objects.get().performed_at == dt.datetime(2026, 11, 2, 8, 30, tzinfo=dt.UTC)


def test_it_defaults_the_time_to_now_in_the_clinics_zone(world):
    body = world.client_for(world.physician).get(new_url(world)).content.decode()
    assert 'type="datetime-local" id="id_performed_at" name="performed_at" value="20' in body
    assert "America/Vancouver" in body


# Bad input -------------------------------------------------------------------------------------

BAD_INPUT = [
    pytest.param({"pain_before": "11"}, "id_pain_before-error", "Pain", id="pain-above-10"),
    pytest.param({"pain_after": "-1"}, "id_pain_after-error", "Pain", id="pain-below-0"),
    pytest.param(
        {"pain_before": "5,5"}, "id_pain_before-error", "whole number", id="pain-not-whole"
    ),
    pytest.param(
        {"injections-0-volume_ml": "0"}, "injections-0-volume_ml-error", "Volume", id="volume-zero"
    ),
    pytest.param(
        {"injections-1-volume_ml": "20,5"},
        "injections-1-volume_ml-error",
        "at most 20 ml",
        id="volume-over-20",
    ),
    pytest.param(
        {"injections-0-volume_ml": "lots"},
        "injections-0-volume_ml-error",
        "Volume: Enter a number",
        id="volume-not-a-number",
    ),
    pytest.param(
        {"readings-0-baseline": "21"},
        "readings-0-baseline-error",
        "between 0 and 20 kg/cm2",
        id="reading-over-20-kg",
    ),
    pytest.param(
        {"unit": "N/cm2", "readings-1-15min": "200"},
        "readings-1-15min-error",
        "between 0 and 196.133 N/cm2",
        id="reading-over-20-kg-in-newtons",
    ),
    pytest.param(
        {"readings-0-1min": "-0,5"}, "readings-0-1min-error", "between 0 and", id="reading-negative"
    ),
    pytest.param(
        {"injections-0-site": "n_made_up", "readings-0-site": "n_made_up"},
        "injections-0-site-error",
        "Site: 'n_made_up' is not a site of the catalog.",
        id="site-not-in-catalog",
    ),
    pytest.param(
        {"injections-1-side": "midline"},
        "injections-1-side-error",
        "treated on the left or right side only",
        id="side-the-site-does-not-have",
    ),
    pytest.param(
        {"injections-1-site": MIDLINE_SITE, "injections-1-side": "left"},
        "injections-1-side-error",
        "midline side only",
        id="midline-site-on-a-side",
    ),
    pytest.param(
        {"injections-0-lidocaine_pct": "3"},
        "injections-0-lidocaine_pct-error",
        "Lidocaine %: Must be between 0 and 2%.",
        id="lidocaine-over-2-percent",
    ),
    pytest.param(
        {"injections-0-needle_gauge": "12"},
        "injections-0-needle_gauge-error",
        "Needle gauge must be 18 to 33.",
        id="needle-out-of-range",
    ),
]


@pytest.mark.parametrize(("changes", "error_id", "message"), BAD_INPUT)
def test_it_shows_bad_input_next_to_the_field_and_stores_nothing(world, changes, error_id, message):
    response = world.client_for(world.physician).post(new_url(world), session_post(**changes))
    body = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert "Nothing was saved" in body
    error_at = body.index(f'id="{error_id}"')
    assert message in body[error_at : error_at + 400]
    # The input points at its message for screen readers, and the summary links to the input.
    assert f'aria-describedby="{error_id}"' in body or error_id.endswith("site-error")
    # What was typed is kept, so nothing has to be entered twice.
    assert "Medial knee pain on stairs." in body
    assert counts() == (0, 0, 0, 0)


def test_it_reports_every_problem_at_once(world):
    post = session_post(
        pain_before="12", **{"injections-0-volume_ml": "0", "readings-0-baseline": "x"}
    )
    body = world.client_for(world.physician).post(new_url(world), post).content.decode()
    assert "3 problems to correct" in body
    assert 'href="#id_pain_before"' in body
    assert 'href="#injections-0-volume_ml"' in body
    assert 'href="#readings-0-baseline"' in body
    assert counts() == (0, 0, 0, 0)


def test_it_refuses_two_readings_for_the_same_site_side_and_phase(world):
    post = session_post(
        **{
            "readings-1-site": SAPHENOUS,
            "readings-1-side": "left",
            "readings-1-15min": "",
            "readings-1-baseline": "3",
        }
    )
    body = world.client_for(world.physician).post(new_url(world), post).content.decode()
    assert "already has a reading in this session" in body
    assert counts() == (0, 0, 0, 0)


def test_it_closes_the_gaps_left_by_rows_removed_in_the_browser(world):
    post = session_post()
    renamed = {}
    for key, value in post.items():
        renamed[
            key.replace("injections-1-", "injections-7-").replace("readings-1-", "readings-9-")
        ] = value
    client = world.client_for(world.physician)
    assert post_acknowledged(client, new_url(world), renamed).status_code == 302
    assert list(Injection.objects.order_by("position").values_list("position", "site")) == [
        (0, SAPHENOUS),
        (1, INFRAPATELLAR),
    ]


def test_it_numbers_error_paths_after_closing_the_gaps(world):
    post = session_post()
    renamed = {k.replace("injections-1-", "injections-5-"): v for k, v in post.items()}
    renamed["injections-5-volume_ml"] = "0"
    body = world.client_for(world.physician).post(new_url(world), renamed).content.decode()
    assert 'id="injections-1-volume_ml-error"' in body
    assert counts() == (0, 0, 0, 0)


# Editing ---------------------------------------------------------------------------------------


def test_it_saves_an_edited_draft_and_bumps_its_version(world):
    session = record_session(world)
    post = session_post(version=str(session.version), notes="Corrected note.")
    response = post_acknowledged(world.client_for(world.naturopath), edit_url(session), post)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.notes == "Corrected note." and session.version == 2
    # The note stays with the practitioner who treated, whoever corrected it.
    assert session.practitioner == world.physician
    assert session.injections.count() == 2 and session.readings.count() == 3


def test_it_refuses_to_edit_a_signed_session(world):
    session = record_session(world, signed=True)
    client = world.client_for(world.physician)
    detail = reverse("treatment:session_detail", args=[session.pk])
    response = client.get(edit_url(session))
    assert response.status_code == 302 and response["Location"].startswith(detail)
    response = client.post(edit_url(session), session_post(version=str(session.version)))
    assert response.status_code == 302 and response["Location"].startswith(detail)
    page = client.get(detail).content.decode()
    assert "This session is signed and cannot be edited" in page
    session.refresh_from_db()
    assert session.notes == "Tender medial knee." and session.version == 2
    assert session.pain_before == 6 and session.injections.count() == 2


def test_it_refuses_a_stale_edit_and_keeps_the_newer_version(world):
    session = record_session(world)
    opened_version = session.version
    client = world.client_for(world.physician)
    # A colleague saves first.
    colleague = world.client_for(world.nurse)
    colleagues = session_post(version=str(opened_version), notes="Colleague's note.")
    assert post_acknowledged(colleague, edit_url(session), colleagues).status_code == 302
    # Our save, from the form opened at the old version.
    response = post_acknowledged(
        client,
        edit_url(session),
        session_post(version=str(opened_version), notes="My note.", pain_before="9"),
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Nothing was overwritten" in body
    assert "now at version 2" in body
    assert "Colleague&#x27;s note." in body  # the current version is shown
    assert "My note." in body  # what we typed is offered to copy, not stored
    session.refresh_from_db()
    assert (session.notes, session.pain_before, session.version) == ("Colleague's note.", 7, 2)


def test_it_asks_for_a_reload_when_the_version_is_missing(world):
    session = record_session(world)
    post = session_post()
    body = world.client_for(world.physician).post(edit_url(session), post).content.decode()
    assert "reload the page" in body
    session.refresh_from_db()
    assert session.version == 1


# Row buttons without JavaScript ----------------------------------------------------------------


def test_it_copies_the_last_sessions_sites_without_saving(world):
    record_session(world)
    client = world.client_for(world.physician)
    response = client.post(
        new_url(world), {"performed_at": "2026-11-09T09:30", "unit": "kg/cm2", "copy_last": "1"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="injections-0-site" value="n_saphenous_medial_knee"' in body
    assert 'name="injections-1-side"' in body
    assert 'name="readings-1-site" value="n_saphenous_medial_knee"' in body
    assert Session.objects.count() == 1
    prefilled = client.get(new_url(world) + "?copy=last").content.decode()
    assert 'name="injections-1-site" value="n_saphenous_medial_knee"' in prefilled


def test_it_adds_a_site_with_the_modalitys_defaults(world):
    post = {
        "performed_at": "2026-11-09T09:30",
        "unit": "kg/cm2",
        "add-site": INFRAPATELLAR,
        "add-side": "both",
        "add_site": "1",
    }
    body = world.client_for(world.physician).post(new_url(world), post).content.decode()
    assert 'name="injections-0-side"' in body and 'name="injections-1-side"' in body
    # Neural series: subcutaneous, 5% dextrose, no lidocaine, 27 G.
    assert 'id="injections-0-dextrose_pct" name="injections-0-dextrose_pct" value="5"' in body
    assert 'id="injections-0-lidocaine_pct" name="injections-0-lidocaine_pct" value="0"' in body
    assert 'id="injections-0-needle_gauge" name="injections-0-needle_gauge" value="27"' in body
    assert '<option value="subcutaneous" selected>' in body
    assert counts() == (0, 0, 0, 0)


def test_it_removes_a_row_without_saving(world):
    post = session_post(remove_row="0")
    del post["save"]
    body = world.client_for(world.physician).post(new_url(world), post).content.decode()
    assert 'name="injections-0-site" value="n_infrapatellar_saphenous"' in body
    assert 'name="injections-1-site"' not in body
    # The removed site's readings had values, so they stay for the practitioner to decide.
    assert 'name="readings-0-site" value="n_saphenous_medial_knee"' in body
    assert counts() == (0, 0, 0, 0)


def test_it_marks_the_injected_dots_on_the_map(world):
    session = record_session(world)
    body = world.client_for(world.physician).get(edit_url(session)).content.decode()
    injected = body.count('aria-pressed="true"')
    assert injected == 2
    assert body.count('class="bm-point is-injected"') == 2


def test_it_keeps_a_session_of_another_series_out(world):
    other_series_session = record_session(world)
    from prolotrack.treatment.models import TreatmentSeries

    other = TreatmentSeries.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        modality="classic",
        region="knee",
        planned_sessions=4,
        planned_interval_days=28,
        started_on=dt.date(2026, 10, 1),
    )
    response = world.client_for(world.physician).get(
        reverse("treatment:session_new", args=[other.pk])
    )
    body = response.content.decode()
    # The classic knee map shows the classic sites; copy is offered only within a series.
    assert 'aria-label="Knee joint, left"' in body
    assert "Copy last session" not in body
    assert other_series_session.series_id == world.series.pk


def test_it_never_stores_a_value_out_of_the_units_range(world):
    # The edge: exactly 20 kg/cm2 is accepted, in any unit.
    post = session_post(unit="kPa", **{"readings-0-baseline": str(round(units.MAX_PPT_KPA, 2))})
    client = world.client_for(world.physician)
    assert post_acknowledged(client, new_url(world), post).status_code == 302
    assert AlgometerReading.objects.get(phase="baseline").kg_cm2 == pytest.approx(20.0, abs=1e-3)
