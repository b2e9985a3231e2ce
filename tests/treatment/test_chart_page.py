"""The patient chart: who sees what, the add-condition and new-series forms, the query budget."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from charting_helpers import CLINICIANS, SAPHENOUS, WHEN, counts, record_session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prolotrack.core.catalog import load_catalog
from prolotrack.patients.models import Condition
from prolotrack.treatment import views
from prolotrack.treatment.models import TreatmentSeries


def chart_url(world, patient=None):
    return reverse("treatment:chart", args=[(patient or world.patient).pk])


@pytest.mark.parametrize("role", CLINICIANS)
def test_it_shows_the_whole_chart_to_every_clinician(world, role):
    session = record_session(world)
    world.patient.diabetes = True
    world.patient.save(update_fields=["diabetes"])
    response = world.client_for(world.roles[role]).get(chart_url(world))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Avery Example" in body and "A-001" in body
    assert "Screening facts" in body and "Diabetes" in body
    assert "Neural prolotherapy, Knee" in body
    assert reverse("treatment:session_detail", args=[session.pk]) in body
    assert 'class="badge badge-draft">Draft' in body
    # The pain chart is inline SVG with its caption and table.
    assert '<svg class="line-chart"' in body
    assert "Pain before (solid line, circles)" in body
    assert "Saphenous nerve at the medial knee, left" in body  # threshold chart of that site
    assert 'name="csrfmiddlewaretoken"' in body


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin"])
def test_it_shows_only_demographics_to_the_front_desk_and_admin(world, role):
    record_session(world)
    world.patient.anticoagulant = True
    world.patient.save(update_fields=["anticoagulant"])
    response = world.client_for(world.roles[role]).get(chart_url(world))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Avery Example" in body and "Demographics" in body
    assert "Clinical notes, treatments and findings are for practitioners" in body
    for clinical in (
        "Screening facts",
        "Anticoagulant",
        "Treatment series",
        "line-chart",
        "Tender medial knee",
        "Adverse events",
        "Saphenous",
    ):
        assert clinical not in body


@pytest.mark.parametrize("role", ["patient", "other_clinic_physician"])
def test_it_hides_the_chart_from_patients_and_other_clinics(world, role):
    record_session(world)
    response = world.client_for(world.roles[role]).get(chart_url(world))
    assert response.status_code == 404
    assert b"Avery" not in response.content


def test_it_sends_anonymous_visitors_to_sign_in(world):
    from django.test import Client

    response = Client().get(chart_url(world))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_says_what_to_do_when_there_is_nothing_yet(world):
    world.series.delete()
    body = world.client_for(world.physician).get(chart_url(world)).content.decode()
    assert "No treatment series yet" in body
    assert "No condition recorded yet" in body
    assert "No adverse event recorded" in body


def test_it_runs_the_same_number_of_queries_for_2_and_12_sessions(world):
    client = world.client_for(world.physician)

    def queries_with(n):
        for i in range(world.series.sessions.count(), n):
            record_session(world, when=WHEN + dt.timedelta(days=7 * i), signed=i % 2 == 0)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(chart_url(world))
        assert response.status_code == 200
        assert response.content.decode().count('<span class="visually-hidden"> session ') == n
        return len(captured)

    two = queries_with(2)
    twelve = queries_with(12)
    assert world.series.sessions.count() == 12
    assert twelve == two


def test_it_adds_a_condition(world):
    response = world.client_for(world.physician).post(
        reverse("treatment:condition_add", args=[world.patient.pk]),
        {"condition-code": "knee_problems", "condition-region": "knee", "condition-side": "left"},
    )
    assert response.status_code == 302
    condition = Condition.objects.get(patient=world.patient)
    assert (condition.code, condition.region, condition.side) == ("knee_problems", "knee", "left")
    assert condition.clinic_id == world.clinic.pk


def test_it_refuses_a_condition_that_is_not_in_the_catalog(world):
    response = world.client_for(world.physician).post(
        reverse("treatment:condition_add", args=[world.patient.pk]),
        {"condition-code": "made_up", "condition-region": "knee"},
    )
    assert response.status_code == 200
    assert "The condition was not added" in response.content.decode()
    assert not Condition.objects.exists()


def test_it_starts_a_classic_series_with_classic_defaults(world):
    condition = Condition.objects.create(
        clinic=world.clinic, patient=world.patient, code="knee_problems", region="knee"
    )
    response = world.client_for(world.naturopath).post(
        reverse("treatment:series_new", args=[world.patient.pk]),
        {
            "series-modality": "classic",
            "series-region": "knee",
            "series-planned_sessions": "",
            "series-planned_interval_days": "",
            "series-started_on": "2026-11-03",
            "series-condition": str(condition.pk),
        },
    )
    assert response.status_code == 302
    series = TreatmentSeries.objects.exclude(pk=world.series.pk).get()
    assert (series.modality, series.planned_sessions, series.planned_interval_days) == (
        "classic",
        4,
        28,
    )
    assert series.condition == condition and series.started_on == dt.date(2026, 11, 3)


def test_it_offers_neural_defaults_in_the_new_series_form(world):
    body = world.client_for(world.physician).get(chart_url(world)).content.decode()
    assert 'name="series-planned_sessions" value="6"' in body
    assert 'name="series-planned_interval_days" value="7"' in body


def test_it_shows_series_errors_next_to_the_field_and_stores_nothing(world):
    response = world.client_for(world.physician).post(
        reverse("treatment:series_new", args=[world.patient.pk]),
        {
            "series-modality": "neural",
            "series-region": "knee",
            "series-planned_sessions": "31",
            "series-started_on": "2026-11-03",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_series-planned_sessions-error"' in body
    assert "Planned sessions:" in body
    assert TreatmentSeries.objects.count() == 1


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin"])
def test_it_lets_only_clinicians_add_conditions_and_series(world, role):
    client = world.client_for(world.roles[role])
    condition = client.post(
        reverse("treatment:condition_add", args=[world.patient.pk]),
        {"condition-code": "knee_problems", "condition-region": "knee"},
    )
    series = client.post(
        reverse("treatment:series_new", args=[world.patient.pk]),
        {"series-modality": "neural", "series-region": "knee", "series-started_on": "2026-11-03"},
    )
    assert condition.status_code == 403 and series.status_code == 403
    assert not Condition.objects.exists() and TreatmentSeries.objects.count() == 1


def test_it_refuses_a_condition_for_another_clinics_patient(world):
    response = world.client_for(world.other_physician).post(
        reverse("treatment:condition_add", args=[world.patient.pk]),
        {"condition-code": "knee_problems", "condition-region": "knee"},
    )
    assert response.status_code == 404
    assert not Condition.objects.exists()


def test_it_escapes_catalog_text_inside_the_svg_charts(world, monkeypatch):
    """A site label with markup must reach the inline SVG as text, never as an element."""
    catalog = load_catalog()
    site = catalog.sites[SAPHENOUS]
    evil = dataclasses.replace(site, name='<script>alert("x")</script> nerve')
    sites = dict(catalog.sites) | {SAPHENOUS: evil}
    monkeypatch.setattr(views, "load_catalog", lambda: dataclasses.replace(catalog, sites=sites))
    record_session(world, notes="<script>alert('notes')</script>")
    body = world.client_for(world.physician).get(chart_url(world)).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; nerve, left" in body
    assert counts()[0] == 1


def test_it_lists_adverse_events_with_their_session(world):
    from prolotrack.treatment import services

    session = record_session(world)
    services.adverse_event_add(
        session=session, category="local_pain_flare", serious=False, onset=dt.date(2026, 11, 3)
    )
    body = world.client_for(world.physician).get(chart_url(world)).content.decode()
    assert "Local pain flare" in body and "2026-11-03" in body
