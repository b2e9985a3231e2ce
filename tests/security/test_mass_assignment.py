"""T8: fields a client must never set (clinic, owner, rights, version, whose record) are never
taken from a post, and clinician-only fields never reach a patient or the front desk.

Every write the matrix allows is posted with a payload that names another clinic's records in
every protected field; afterwards nothing belongs to clinic B that did not, nobody's rights
changed, and the rows written belong where the URL says.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps

from prolotrack.accounts.models import User
from prolotrack.patients.models import Condition, Patient, Screening
from prolotrack.treatment import services
from prolotrack.treatment.models import AdverseEvent, Session, SessionAmendment
from tests.routes import Operation
from tests.security.conftest import ROLES, table_state
from tests.security.endpoints import body, endpoints, send, url_of
from tests.security.matrix import MATRIX, expected
from tests.security.payloads import protected_fields, write_data
from tests.treatment.charting_helpers import WHEN, acknowledging, record_session

WRITERS = ("physician", "clinic_admin", "front_desk", "outsider", "patient")


def writes() -> list[tuple[str, str, str]]:
    """(entry, method, role) of every write, by the first writer the matrix lets through."""
    found = []
    for key, methods in MATRIX.items():
        for method in methods:
            if method == "GET":
                continue
            cells = expected(key, method)
            role = next((r for r in WRITERS if cells[r] == "ok"), None)
            if role and key not in ("login", "logout"):
                found.append((key, method, role))
    return found


def clinic_b_rows(clinic_id: int) -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.filter(clinic_id=clinic_id).count()
        for model in apps.get_models()
        if any(f.name == "clinic" for f in model._meta.fields)
    }


def rights() -> list[tuple]:
    return list(
        User.objects.order_by("pk").values_list(
            "pk", "role", "is_staff", "is_superuser", "is_active", "clinic_id"
        )
    )


def test_every_write_takes_no_protected_field(actors):
    world = actors.world
    clients = {role: actors.client(role) for role in ROLES}
    signed = actors.signed  # the session the API's amendments name too (API_ARGUMENTS)
    before_b, before_rights, before_tables = (
        clinic_b_rows(world.other_clinic.pk),
        rights(),
        table_state(),
    )
    patient_before = Patient.objects.filter(pk=world.patient.pk).values().get()
    data = {**write_data(actors), **protected_fields(actors)}
    found = writes()
    assert len(found) >= 12
    for key, method, role in found:
        values = actors.url_values
        if key == "treatment:session_amend":
            values = {**values, "session_id": signed.pk}
        client = clients[role]
        if isinstance(endpoints()[key], Operation):
            response = send(client, key, method, values)
        else:
            url = url_of(key, values)
            post = acknowledging(client, url, data) if key.startswith("treatment:session") else data
            response = client.post(url, post)
        assert response.status_code < 500, f"{method} {key} as {role}"

    # Something was written (the control), and nothing of it went to clinic B.
    assert table_state() != before_tables
    assert clinic_b_rows(world.other_clinic.pk) == before_b
    assert rights() == before_rights
    patient = Patient.objects.get(pk=world.patient.pk)
    assert (patient.clinic_id, patient.user_id) == (
        patient_before["clinic_id"],
        patient_before["user_id"],
    )
    assert patient.version < 999
    b_users = set(User.objects.filter(clinic=world.other_clinic).values_list("pk", flat=True))
    for session in Session.objects.all():
        assert session.clinic_id == world.clinic.pk
        assert session.practitioner_id not in b_users and session.signed_by_id not in b_users
        assert session.version < 999
    assert not Condition.objects.exclude(patient=world.patient).filter(clinic=world.clinic)
    assert set(Condition.objects.values_list("patient_id", flat=True)) <= {world.patient.pk}
    assert set(Screening.objects.values_list("patient_id", flat=True)) <= {world.patient.pk}
    for event in AdverseEvent.objects.all():
        assert event.session.series.patient_id == world.patient.pk
    for amendment in SessionAmendment.objects.all():
        assert (amendment.session_id, amendment.author_id) == (signed.pk, world.physician.pk)


def test_a_new_session_belongs_to_its_series_and_its_author(actors):
    world = actors.world
    client = actors.client("naturopathic_doctor")
    url = url_of("treatment:session_new", actors.url_values)
    data = {**write_data(actors, "New session"), **protected_fields(actors)}
    response = client.post(url, acknowledging(client, url, data))
    assert response.status_code == 302, response.content.decode()[:500]
    session = Session.objects.get(notes="New session")
    assert (session.series_id, session.clinic_id) == (world.series.pk, world.clinic.pk)
    assert session.practitioner_id == world.naturopath.pk
    assert (session.signed_at, session.signed_by_id, session.version) == (None, None, 1)


# Clinician-only fields, each with a text found nowhere else.
NOTES = {
    "session notes": "Clinician-only session note 4711",
    "injection lot": "LOT-CLIN-4711",
    "amendment": "Clinician-only amendment 4711",
    "adverse event notes": "Clinician-only adverse event 4711",
    "condition notes": "Clinician-only condition note 4711",
    "screening notes": "Clinician-only screening note 4711",
}
NON_CLINICAL = ("patient", "front_desk", "clinic_admin", "auditor", "other_clinic_physician")


def test_clinician_only_fields_never_reach_other_roles(actors):
    from decimal import Decimal

    from prolotrack.core.charting import InjectionInput
    from prolotrack.patients import services as patient_services
    from tests.treatment.charting_helpers import SAPHENOUS

    world = actors.world
    lot = InjectionInput(
        SAPHENOUS, "left", "subcutaneous", Decimal("0.5"), 27, lot=NOTES["injection lot"]
    )
    session = record_session(
        world,
        when=WHEN + dt.timedelta(days=7),
        signed=True,
        notes=NOTES["session notes"],
        injections=[lot],
    )
    services.session_amend(session=session, author=world.physician, text=NOTES["amendment"])
    services.adverse_event_add(
        session=session,
        category="local_pain_flare",
        serious=False,
        onset=dt.date(2026, 11, 10),
        notes=NOTES["adverse event notes"],
    )
    patient_services.condition_add(
        patient=world.patient,
        code="neck_pain",
        region="neck_shoulder",
        notes=NOTES["condition notes"],
    )
    patient_services.screening_record(
        patient=world.patient, recorded_by=world.physician, notes=NOTES["screening notes"]
    )
    values = {**actors.url_values, "session_id": session.pk}
    shown = {}
    for role in (*NON_CLINICAL, "physician"):
        client = actors.client(role)
        for key, methods in MATRIX.items():
            if "GET" not in methods or expected(key, "GET")[role] != "ok":
                continue
            text = body(send(client, key, "GET", values))
            for field, note in NOTES.items():
                if note in text:
                    shown.setdefault(role, set()).add(field)
    leaked = {role: fields for role, fields in shown.items() if role != "physician"}
    assert not leaked, f"clinician-only fields shown: {leaked}"
    # The control: the practitioner's pages show them (no page shows condition notes yet).
    assert shown["physician"] >= set(NOTES) - {"condition notes"}
