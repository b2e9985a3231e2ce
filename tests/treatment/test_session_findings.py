"""The session form's safety findings: live, on the page, when saving, and on the chart.

The plans come from the records through treatment.plan_input; what each rule says is tested in
tests/core/rules. Here: the right facts reach the rules, and the pages act on the findings.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from charting_helpers import (
    CLINICIANS,
    SAPHENOUS,
    acknowledging,
    counts,
    record_session,
    session_post,
)
from django.test import Client
from django.urls import reverse

from prolotrack.audit.models import Action, AuditEvent
from prolotrack.core.catalog import Modality
from prolotrack.core.charting import InjectionInput, Solution
from prolotrack.core.rules import Allergy, Profession, Symptom
from prolotrack.patients.models import Patient
from prolotrack.patients.services import screening_record
from prolotrack.treatment.models import Session
from prolotrack.treatment.plan_input import patient_plan, session_plan

WHEN = dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)


def new_url(world):
    return reverse("treatment:session_new", args=[world.series.pk])


def findings_url(world):
    return reverse("treatment:series_findings", args=[world.series.pk])


def edit_url(session):
    return reverse("treatment:session_edit", args=[session.pk])


def lidocaine_post(**overrides: str) -> dict[str, str]:
    """31 ml of plain 1% lidocaine in two injections: 310 mg, over the 300 mg cap."""
    return session_post(
        **{
            "injections-0-volume_ml": "16",
            "injections-0-lidocaine_pct": "1",
            "injections-1-site": SAPHENOUS,
            "injections-1-side": "right",
            "injections-1-volume_ml": "15",
            "injections-1-lidocaine_pct": "1",
            "readings-1-site": SAPHENOUS,
            "readings-1-side": "right",
            **overrides,
        }
    )


def findings_in(body: str) -> dict[str, str]:
    """code -> severity of every finding shown."""
    return dict(re.findall(r'data-finding="([^"]+)" data-severity="([^"]+)"', body))


@pytest.fixture
def seventy_kg(world):
    Patient.objects.filter(pk=world.patient.pk).update(weight_kg=Decimal("70.0"))
    world.patient.refresh_from_db()
    return world


# The adapter -----------------------------------------------------------------------------------


def test_the_plan_carries_the_records_facts(world):
    Patient.objects.filter(pk=world.patient.pk).update(
        allergies=["corn"], anticoagulant=True, weight_kg=Decimal("70.5")
    )
    world.patient.refresh_from_db()
    screening_record(
        patient=world.patient, recorded_by=world.nurse, symptoms=["fever"], infection_at_site=True
    )
    first = record_session(world, when=WHEN - dt.timedelta(days=14), pain_before=8)
    record_session(world, when=WHEN - dt.timedelta(days=7), pain_before=None)
    record_session(world, when=WHEN + dt.timedelta(days=7))  # later: not part of the history
    plan = session_plan(
        series=world.series,
        practitioner=world.naturopath,
        performed_at=WHEN,
        injections=[
            InjectionInput(
                SAPHENOUS, "left", "subcutaneous", Decimal("0.5"), 27, Solution(Decimal("5"))
            )
        ],
    )
    assert plan.jurisdiction == "CA-BC"
    assert plan.practitioner.profession is Profession.NATUROPATHIC_DOCTOR
    patient = plan.patient
    assert (patient.age, patient.weight_kg, patient.anticoagulant) == (55, 70.5, True)
    assert patient.allergies == {Allergy.CORN}
    assert patient.symptoms == {Symptom.FEVER} and patient.infection_at_site is True
    series = plan.series
    assert series.modality is Modality.NEURAL and series.session_number == 3
    assert series.date == dt.date(2026, 11, 2)
    assert series.previous_session_date == dt.date(2026, 10, 26)
    assert series.pain_history == (8.0,)  # the session without a score is left out
    injection = plan.injections[0]
    assert (injection.region, injection.site, injection.volume_ml) == ("knee", SAPHENOUS, 0.5)
    # Editing the first session: it is not its own history.
    again = session_plan(
        series=world.series,
        practitioner=world.physician,
        performed_at=first.performed_at,
        injections=[],
        session=first,
    )
    assert again.series.session_number == 1 and again.series.previous_session_date is None


def test_the_plans_date_is_the_clinics_local_date(world):
    # 07:30 UTC on 3 November is still 2 November in Vancouver (23:30 PST).
    late = dt.datetime(2026, 11, 3, 7, 30, tzinfo=dt.UTC)
    plan = patient_plan(patient=world.patient, practitioner=world.physician, on=late)
    assert plan.series.date == dt.date(2026, 11, 2) and plan.injections == ()


# Live findings ---------------------------------------------------------------------------------


def test_it_returns_the_lidocaine_block_for_an_overdose(seventy_kg):
    world = seventy_kg
    response = world.client_for(world.physician).post(findings_url(world), lidocaine_post())
    body = response.content.decode()
    assert response.status_code == 200
    assert findings_in(body)["dose_limit.lidocaine_max"] == "block"
    assert "Reduce the lidocaine: 310 mg this session is over the 300 mg allowed (70 kg" in body
    assert '<strong class="finding-label">Stop</strong>' in body
    assert "310 mg of 300 mg allowed" in body and "over the limit" in body
    assert "31 ml" in body
    assert "<html" not in body  # a partial for the panel, not a page
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("role", CLINICIANS)
def test_it_finds_nothing_blocking_in_a_normal_neural_session(world, role):
    body = world.client_for(world.roles[role]).post(findings_url(world), session_post()).content
    found = findings_in(body.decode())
    assert "block" not in found.values()
    assert "0 mg of 300 mg allowed" in body.decode()
    assert "0.08 g" in body.decode()  # 1.5 ml of 5% dextrose
    assert "1.5 ml" in body.decode()


def test_it_checks_the_red_flags_of_the_latest_screening(world):
    client = world.client_for(world.physician)
    body = client.post(findings_url(world), session_post()).content.decode()
    assert "No red-flag screening is recorded" in body
    screening_record(
        patient=world.patient, recorded_by=world.physician, symptoms=["saddle_anaesthesia"]
    )
    body = client.post(findings_url(world), session_post()).content.decode()
    assert findings_in(body)["red_flag.cauda_equina"] == "block"
    assert "Refer same day to emergency: suspected cauda equina syndrome" in body
    assert "Red flags from the screening of" in body


def test_it_names_the_rows_it_cannot_check_yet(world):
    post = session_post(**{"injections-1-volume_ml": "lots"})
    body = world.client_for(world.physician).post(findings_url(world), post).content.decode()
    assert "Not checked" in body
    assert "Infrapatellar branch of the saphenous nerve, right" in body
    assert "0.5 ml" in body  # the other row is checked


def test_it_keeps_the_tick_while_the_cautions_stay_the_same(world):
    client = world.client_for(world.physician)
    ticked = acknowledging(client, new_url(world), session_post())
    body = client.post(findings_url(world), ticked).content.decode()
    assert re.search(r'name="acknowledge" value="[0-9a-f]+" checked', body)
    # A new caution (a bigger volume) needs a new tick.
    changed = {**ticked, "injections-0-volume_ml": "1.5"}
    body = client.post(findings_url(world), changed).content.decode()
    assert re.search(r'name="acknowledge" value="[0-9a-f]+">', body)


@pytest.mark.parametrize(
    ("role", "status"),
    [("front_desk", 403), ("clinic_admin", 403), ("patient", 404), ("other_clinic_physician", 404)],
)
def test_it_refuses_the_findings_to_everyone_else(world, role, status):
    session = record_session(world)
    client = world.client_for(world.roles[role])
    for url in (findings_url(world), reverse("treatment:session_findings", args=[session.pk])):
        response = client.post(url, session_post())
        assert response.status_code == status
        assert b"data-finding" not in response.content


def test_it_takes_only_posts_with_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.physician)
    assert client.get(findings_url(world)).status_code == 405
    assert client.post(findings_url(world), session_post()).status_code == 403
    # The form's token in the header, as htmx sends it.
    client.get(new_url(world))
    token = client.cookies["csrftoken"].value
    response = client.post(findings_url(world), session_post(), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_the_edit_findings_refuse_a_signed_session(world):
    session = record_session(world, signed=True)
    url = reverse("treatment:session_findings", args=[session.pk])
    response = world.client_for(world.physician).post(url, session_post())
    assert response.status_code == 409
    assert b"signed" in response.content


# The form page ---------------------------------------------------------------------------------


def test_the_form_shows_the_findings_without_javascript_and_wires_htmx(world):
    screening_record(patient=world.patient, recorded_by=world.physician, history=["cancer"])
    body = world.client_for(world.physician).get(new_url(world)).content.decode()
    assert 'id="findings-panel"' in body
    assert findings_in(body) == {"red_flag.malignancy": "warn"}
    assert f'hx-post="{findings_url(world)}"' in body
    assert 'hx-trigger="change delay:300ms"' in body
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    assert "prolotrack/vendor/htmx.min.js" in body
    assert 'name="htmx-config"' in body and '"allowEval": false' in body
    # The page's CSP allows no inline script, style or handler.
    assert "<script>" not in body and " style=" not in body and " onclick=" not in body
    assert "I have read the cautions" in body


def test_the_edit_form_posts_to_the_sessions_findings(world):
    session = record_session(world)
    body = world.client_for(world.physician).get(edit_url(session)).content.decode()
    assert f'hx-post="{reverse("treatment:session_findings", args=[session.pk])}"' in body


# Saving ----------------------------------------------------------------------------------------


def test_a_blocked_save_stores_nothing(seventy_kg):
    world = seventy_kg
    response = world.client_for(world.physician).post(new_url(world), lidocaine_post())
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved: the safety checks stop this session" in body
    # The findings come first: the refusal, then the panel, then the form's fields.
    assert body.index("safety-summary") < body.index('id="findings-panel"') < body.index("Visit")
    assert findings_in(body)["dose_limit.lidocaine_max"] == "block"
    assert 'id="id_override_reason"' in body  # the physician may override
    assert "Medial knee pain on stairs." in body  # what was typed is kept
    assert counts() == (0, 0, 0, 0)


def test_a_naturopath_cannot_override(seventy_kg):
    world = seventy_kg
    client = world.client_for(world.naturopath)
    post = acknowledging(
        client,
        new_url(world),
        lidocaine_post(override_reason="The patient insists and understands the risk."),
    )
    response = client.post(new_url(world), post)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Only a physician can override a Stop" in body
    assert "ask a physician to review it and record an override" in body
    assert 'id="id_override_reason"' not in body
    assert counts() == (0, 0, 0, 0)
    assert not AuditEvent.objects.filter(action=Action.OVERRIDE).exists()


@pytest.mark.parametrize("reason", ["", "ok", "  too short "])
def test_a_physicians_override_needs_a_reason_of_ten_characters(seventy_kg, reason):
    world = seventy_kg
    client = world.client_for(world.physician)
    post = acknowledging(client, new_url(world), lidocaine_post(override_reason=reason))
    body = client.post(new_url(world), post).content.decode()
    assert "write why you are going ahead in Override reason (at least 10 characters)" in body
    assert 'aria-invalid="true">' in body
    assert counts() == (0, 0, 0, 0)


def test_a_physicians_override_with_a_reason_saves_and_is_kept(seventy_kg):
    world = seventy_kg
    client = world.client_for(world.physician)
    reason = "Ultrasound-guided, monitored; patient informed of the toxicity risk."
    post = acknowledging(client, new_url(world), lidocaine_post(override_reason=f"  {reason} "))
    before = dt.datetime.now(dt.UTC)
    response = client.post(new_url(world), post)
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.override_reason == reason
    assert session.override_by == world.physician
    assert before <= session.override_at <= dt.datetime.now(dt.UTC)
    assert session.override_codes == ["dose_limit.lidocaine_max"]
    assert session.injections.count() == 2
    event = AuditEvent.objects.get(action=Action.OVERRIDE)
    assert (event.user_id, event.object_type, event.object_id) == (
        world.physician.pk,
        "session",
        str(session.pk),
    )
    assert event.patient_id == world.patient.pk and event.clinic_id == world.clinic.pk
    assert event.detail == {"count": 1, "codes": "dose_limit.lidocaine_max"}
    assert reason not in str(event.detail)  # the reason stays in the record, not the log
    page = client.get(reverse("treatment:session_detail", args=[session.pk])).content.decode()
    assert "overridden by a physician" in page and reason in page


def test_an_edit_that_no_longer_blocks_clears_the_override(seventy_kg):
    world = seventy_kg
    client = world.client_for(world.physician)
    post = acknowledging(
        client, new_url(world), lidocaine_post(override_reason="Monitored, patient informed.")
    )
    client.post(new_url(world), post)
    session = Session.objects.get()
    url = edit_url(session)
    assert "Monitored, patient informed." in client.get(url).content.decode()
    fixed = acknowledging(client, url, session_post(version=str(session.version)))
    assert client.post(url, fixed).status_code == 302
    session.refresh_from_db()
    assert (session.override_reason, session.override_by, session.override_at) == ("", None, None)
    assert session.override_codes == []


def test_cautions_need_the_acknowledgement(world):
    client = world.client_for(world.physician)
    post = session_post(**{"injections-1-volume_ml": "1.0"})  # over the site's usual 0.5 ml
    body = client.post(new_url(world), post).content.decode()
    assert findings_in(body)["site.site_volume"] == "warn"
    assert "read the cautions and tick" in body
    assert 'id="id_acknowledge-error"' in body
    assert counts() == (0, 0, 0, 0)
    # A tick for other cautions than those shown does not count.
    stale = client.post(new_url(world), {**post, "acknowledge": "0123456789abcdef"})
    assert b"read the cautions and tick" in stale.content and counts() == (0, 0, 0, 0)
    response = client.post(new_url(world), acknowledging(client, new_url(world), post))
    assert response.status_code == 302 and Session.objects.count() == 1


def test_a_session_without_cautions_saves_without_a_tick(world):
    post = session_post(**{"injections-1-volume_ml": "0.5"})
    body = world.client_for(world.physician).post(findings_url(world), post).content.decode()
    assert "warn" not in findings_in(body).values()
    response = world.client_for(world.physician).post(new_url(world), post)
    assert response.status_code == 302 and Session.objects.count() == 1
    assert Session.objects.get().override_codes == []


# The chart -------------------------------------------------------------------------------------


def test_the_chart_asks_for_a_screening_when_there_is_none(world):
    body = world.client_for(world.physician).get(
        reverse("treatment:chart", args=[world.patient.pk])
    )
    text = body.content.decode()
    assert "Active findings" in text
    assert "No red-flag screening recorded." in text
    assert f'href="{reverse("patients:screening", args=[world.patient.pk])}">Record screening' in (
        text
    )


def test_the_chart_shows_the_active_findings(world):
    Patient.objects.filter(pk=world.patient.pk).update(
        allergies=["local_anaesthetic"], pregnant=True
    )
    screening_record(
        patient=world.patient, recorded_by=world.physician, symptoms=["gait_disturbance"]
    )
    for week, pain in enumerate((6, 6, 6)):
        record_session(world, when=WHEN + dt.timedelta(days=7 * week), pain_before=pain)
    text = (
        world.client_for(world.nurse)
        .get(reverse("treatment:chart", args=[world.patient.pk]))
        .content.decode()
    )
    found = findings_in(text)
    assert found["red_flag.cervical_myelopathy"] == "block"
    assert found["contraindication.pregnancy"] == "warn"
    assert found["allergy.local_anaesthetic"] == "warn"
    assert found["series.no_response"] == "warn"
    assert "Refer immediately to emergency: suspected cervical myelopathy" in text
    assert "Use solutions without lidocaine" in text
    # Near the top: before the demographics.
    assert text.index("Active findings") < text.index("Demographics")
    assert "interval.neural" not in found  # booking is not a standing finding


def test_the_chart_says_when_nothing_stands(world):
    screening_record(patient=world.patient, recorded_by=world.physician)
    text = (
        world.client_for(world.physician)
        .get(reverse("treatment:chart", args=[world.patient.pk]))
        .content.decode()
    )
    assert "Nothing to act on." in text and findings_in(text) == {}


def test_the_chart_keeps_findings_from_the_front_desk(world):
    screening_record(patient=world.patient, recorded_by=world.physician, symptoms=["fever"])
    text = (
        world.client_for(world.front_desk)
        .get(reverse("treatment:chart", args=[world.patient.pk]))
        .content.decode()
    )
    assert "Active findings" not in text and "data-finding" not in text
