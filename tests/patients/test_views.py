from __future__ import annotations

import pytest
from django.urls import reverse

from prolotrack.patients.models import Patient

STAFF = ["physician", "naturopathic_doctor", "nurse_practitioner", "front_desk", "clinic_admin"]

VALID = {
    "chart_number": "A-900",
    "given_name": "Robin",
    "family_name": "Quarry",
    "birth_date": "1980-05-17",
    "sex": "male",
    "weight_kg": "81,5",
    "email": "",
    "phone": "",
}


@pytest.mark.parametrize("role", STAFF)
def test_it_lists_the_clinics_patients_for_every_staff_role(world, role):
    response = world.client_for(world.roles[role]).get(reverse("patients:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Example, Avery" in body
    assert "Elsewhere" not in body  # the other clinic's patient


@pytest.mark.parametrize("role", ["patient"])
def test_it_refuses_the_list_to_patients(world, role):
    response = world.client_for(world.roles[role]).get(reverse("patients:list"))
    assert response.status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, world):
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_searches_by_name_and_chart_number(world):
    c = world.client_for(world.front_desk)
    Patient.objects.create(
        clinic=world.clinic,
        chart_number="A-777",
        given_name="Zed",
        family_name="Moreau",
        birth_date="1960-01-01",
    )
    body = c.get(reverse("patients:list"), {"q": "moreau"}).content.decode()
    assert "Moreau, Zed" in body and "Example, Avery" not in body
    body = c.get(reverse("patients:list"), {"q": "A-001"}).content.decode()
    assert "Example, Avery" in body and "Moreau" not in body
    body = c.get(reverse("patients:list"), {"q": "nobody-like-this"}).content.decode()
    assert "No patient matches" in body


def test_it_paginates_the_list(world, settings):
    settings.PAGE_SIZE = 5
    for i in range(12):
        Patient.objects.create(
            clinic=world.clinic,
            chart_number=f"P-{i:03}",
            given_name="G",
            family_name=f"F{i:02}",
            birth_date="1970-01-01",
        )
    c = world.client_for(world.front_desk)
    body = c.get(reverse("patients:list")).content.decode()
    assert "Page 1 of 3" in body
    body = c.get(reverse("patients:list"), {"page": "3"}).content.decode()
    assert "Page 3 of 3" in body
    # A nonsense page number shows a page instead of an error.
    assert c.get(reverse("patients:list"), {"page": "abc"}).status_code == 200


def test_it_shows_an_empty_state_for_a_new_clinic(world):
    c = world.client_for(world.other_physician)
    world.other_patient.delete()
    body = c.get(reverse("patients:list")).content.decode()
    assert "No patients yet" in body


def test_it_creates_a_patient_with_a_comma_decimal(world):
    response = world.client_for(world.front_desk).post(reverse("patients:create"), VALID)
    assert response.status_code == 302
    patient = Patient.objects.get(chart_number="A-900")
    assert patient.clinic == world.clinic
    assert str(patient.weight_kg) == "81.5"
    assert patient.version == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", "0", "Weight must be between 1 and 400 kg."),
        ("weight_kg", "401", "Weight must be between 1 and 400 kg."),
        ("birth_date", "2999-01-01", "The birth date cannot be in the future."),
        ("chart_number", "A-001", "Another patient of this clinic has this chart number."),
        ("sex", "robot", "Select a valid choice"),
        ("given_name", "", "This field is required."),
    ],
)
def test_it_refuses_bad_input_inline_and_saves_nothing(world, field, value, message):
    before = Patient.objects.count()
    data = {**VALID, field: value}
    response = world.client_for(world.front_desk).post(reverse("patients:create"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "Nothing was saved" in body
    assert Patient.objects.count() == before


def test_it_ignores_attempts_to_set_the_clinic_or_version(world):
    data = {**VALID, "clinic": world.other_clinic.pk, "clinic_id": world.other_clinic.pk}
    world.client_for(world.front_desk).post(reverse("patients:create"), data)
    assert Patient.objects.get(chart_number="A-900").clinic == world.clinic


def test_it_edits_a_patient_and_bumps_the_version(world):
    p = world.patient
    data = {**VALID, "chart_number": p.chart_number, "family_name": "Renamed", "version": "1"}
    response = world.client_for(world.front_desk).post(reverse("patients:edit", args=[p.pk]), data)
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.family_name == "Renamed" and p.version == 2


def test_it_refuses_a_stale_edit_with_409_and_keeps_the_other_change(world):
    p = world.patient
    c = world.client_for(world.front_desk)
    first = {**VALID, "chart_number": p.chart_number, "family_name": "First", "version": "1"}
    second = {**VALID, "chart_number": p.chart_number, "family_name": "Second", "version": "1"}
    assert c.post(reverse("patients:edit", args=[p.pk]), first).status_code == 302
    response = c.post(reverse("patients:edit", args=[p.pk]), second)
    assert response.status_code == 409
    assert "Nothing was overwritten" in response.content.decode()
    p.refresh_from_db()
    assert p.family_name == "First" and p.version == 2


def test_it_answers_404_for_another_clinics_patient(world):
    c = world.client_for(world.front_desk)
    url = reverse("patients:edit", args=[world.other_patient.pk])
    assert c.get(url).status_code == 404
    data = {**VALID, "chart_number": "X", "version": "1"}
    assert c.post(url, data).status_code == 404
    world.other_patient.refresh_from_db()
    assert world.other_patient.family_name == "Elsewhere"
