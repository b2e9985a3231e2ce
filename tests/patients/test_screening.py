"""The intake screening: who may record it, what it stores, and the findings it shows at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from prolotrack.core.charting import FieldError
from prolotrack.core.rules import History, Symptom
from prolotrack.patients.forms import SCREENING_GROUPS
from prolotrack.patients.models import Screening
from prolotrack.patients.services import screening_record
from prolotrack.treatment.services import ChartingError

CLINICIANS = ("physician", "naturopathic_doctor", "nurse_practitioner")


def url(patient):
    return reverse("patients:screening", args=[patient.pk])


# The questions ---------------------------------------------------------------------------------


def test_it_asks_every_symptom_and_history_item_of_the_vocabulary_once():
    asked = [(q.field, q.code) for g in SCREENING_GROUPS for q in g.questions]
    assert len(asked) == len(set(asked))
    assert {c for f, c in asked if f == "symptoms"} == {s.value for s in Symptom}
    assert {c for f, c in asked if f == "history"} == {h.value for h in History}
    assert ("infection_at_site", "yes") in asked
    assert [g.title for g in SCREENING_GROUPS] == ["Low back", "Neck", "General"]


def test_it_labels_every_question_in_plain_words():
    for group in SCREENING_GROUPS:
        for question in group.questions:
            assert "_" not in question.label, question.code
            assert question.label[0].isupper() and len(question.label) > 6


def test_it_shows_a_labelled_checkbox_per_question_grouped(world):
    body = world.client_for(world.physician).get(url(world.patient)).content.decode()
    for legend in (
        "<legend>Low back</legend>",
        "<legend>Neck</legend>",
        "<legend>General</legend>",
    ):
        assert legend in body
    for group in SCREENING_GROUPS:
        for q in group.questions:
            box_id = f"id_{q.field}_{q.code}"
            assert f'<label for="{box_id}"><input type="checkbox" id="{box_id}"' in body
            assert f'name="{q.field}" value="{q.code}"' in body
    assert "No screening recorded yet" in body


# Recording and the findings --------------------------------------------------------------------


@pytest.mark.parametrize("role", CLINICIANS)
def test_it_saves_the_answers_and_shows_cauda_equina_at_once(world, role):
    client = world.client_for(world.roles[role])
    response = client.post(
        url(world.patient),
        {"symptoms": ["saddle_anaesthesia", "bladder_dysfunction"], "notes": "Since Tuesday."},
    )
    assert response.status_code == 302
    assert response["Location"] == url(world.patient) + "#findings"
    screening = Screening.objects.get()
    assert screening.patient == world.patient and screening.clinic == world.clinic
    assert screening.recorded_by == world.roles[role]
    # Stored in the vocabulary's order, whatever the order ticked.
    assert screening.symptoms == ["bladder_dysfunction", "saddle_anaesthesia"]
    assert screening.history == [] and screening.infection_at_site is False
    assert screening.notes == "Since Tuesday."

    body = client.get(response["Location"]).content.decode()
    assert 'data-finding="red_flag.cauda_equina" data-severity="block"' in body
    assert "Refer same day to emergency: suspected cauda equina syndrome" in body
    assert '<strong class="finding-label">Stop</strong>' in body
    # The source is one click away.
    assert "<summary>Source" in body and "domain.3.1" in body
    assert "Act on every finding marked Stop" in body
    assert "New trouble passing urine" in body  # the answers, in the words of the question


def test_it_shows_cautions_and_infection_at_the_site_with_their_words(world):
    client = world.client_for(world.physician)
    client.post(url(world.patient), {"history": ["osteoporosis"], "infection_at_site": "yes"})
    body = client.get(url(world.patient)).content.decode()
    assert 'data-finding="contraindication.infection_at_site" data-severity="block"' in body
    assert 'data-finding="red_flag.fracture" data-severity="warn"' in body
    assert '<strong class="finding-label">Caution</strong>' in body
    assert "Arrange urgent imaging to rule out a fracture" in body
    assert Screening.objects.get().infection_at_site is True


def test_it_says_so_when_no_answer_is_a_red_flag(world):
    client = world.client_for(world.physician)
    assert client.post(url(world.patient), {}).status_code == 302
    body = client.get(url(world.patient)).content.decode()
    assert "No red flag." in body and "Every answer was no." in body
    assert 'data-finding="' not in body
    assert Screening.objects.get().is_clear


def test_it_keeps_every_screening_and_reads_the_latest(world):
    earlier = screening_record(
        patient=world.patient,
        recorded_by=world.physician,
        symptoms=["fever"],
        recorded_at=dt.datetime(2026, 10, 1, 17, 0, tzinfo=dt.UTC),
    )
    world.client_for(world.physician).post(url(world.patient), {"symptoms": ["night_pain"]})
    assert Screening.objects.count() == 2
    latest = Screening.objects.latest_for(world.patient)
    assert latest != earlier and latest.symptoms == ["night_pain"]
    body = world.client_for(world.physician).get(url(world.patient)).content.decode()
    assert "red_flag.malignancy" in body and "red_flag.fever" not in body


# Refusals --------------------------------------------------------------------------------------


def test_it_refuses_an_unknown_symptom_code_and_stores_nothing(world):
    response = world.client_for(world.physician).post(
        url(world.patient), {"symptoms": ["saddle_anaesthesia", "headache"]}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in body
    assert "headache is not a symptom of the screening list." in body
    # What was ticked stays ticked, so nothing has to be asked twice.
    assert 'value="saddle_anaesthesia" checked' in body
    assert Screening.objects.count() == 0


def test_the_workflow_refuses_unknown_codes_naming_the_field(world):
    with pytest.raises(ChartingError) as caught:
        screening_record(
            patient=world.patient,
            recorded_by=world.physician,
            symptoms=["saddle_anesthesia"],  # misspelt: must not read as "no red flag"
            history=["gout"],
        )
    assert caught.value.errors == [
        FieldError("symptoms", "'saddle_anesthesia' is not a symptom of the screening list."),
        FieldError("history", "'gout' is not a history item of the screening list."),
    ]
    assert Screening.objects.count() == 0


def test_the_workflow_refuses_a_non_clinician_and_another_clinics_practitioner(world):
    for user in (world.front_desk, world.other_physician):
        with pytest.raises(ChartingError) as caught:
            screening_record(patient=world.patient, recorded_by=user, symptoms=["fever"])
        assert caught.value.errors[0].field == "recorded_by"
    assert Screening.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [("front_desk", 403), ("clinic_admin", 403), ("patient", 404), ("other_clinic_physician", 404)],
)
def test_it_refuses_everyone_but_the_clinics_practitioners(world, role, status):
    screening_record(patient=world.patient, recorded_by=world.physician, symptoms=["fever"])
    client = world.client_for(world.roles[role])
    response = client.get(url(world.patient))
    assert response.status_code == status
    assert b"red_flag" not in response.content and b"Defer the injections" not in response.content
    response = client.post(url(world.patient), {"symptoms": ["saddle_anaesthesia"]})
    assert response.status_code == status
    assert Screening.objects.count() == 1


def test_it_answers_404_for_another_clinics_patient(world):
    client = world.client_for(world.physician)
    assert client.get(url(world.other_patient)).status_code == 404
    assert client.post(url(world.other_patient), {"symptoms": ["fever"]}).status_code == 404
    assert Screening.objects.count() == 0


def test_it_sends_anonymous_visitors_to_sign_in(world):
    response = Client().get(url(world.patient))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_needs_a_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.physician)
    assert client.post(url(world.patient), {"symptoms": ["fever"]}).status_code == 403
    assert Screening.objects.count() == 0
