"""The clinic's diary settings page: its administrators save it; a POST is always read as the
form it sends, so an empty or invalid one is refused (400, the fields named) and saves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_q.models import Schedule

from prolotrack.diary.models import ClinicDiarySettings
from prolotrack.diary.services.reminders import schedule_name

URL = reverse("diary:settings")
VALID = {
    "alert_email": "alerts@clinic.example",
    "reminders_enabled": "on",
    "reminder_time": "19:30",
    "aftercare_advice": "Ice the area for ten minutes.",
}


def _stored(world) -> tuple | None:
    row = ClinicDiarySettings.objects.filter(clinic=world.clinic).first()
    if row is None:
        return None
    return (row.alert_email, row.reminders_enabled, row.reminder_time, row.aftercare_advice)


def test_the_page_shows_the_form(world):
    response = world.client_for(world.admin).get(URL)
    assert response.status_code == 200
    assert 'name="reminder_time"' in response.content.decode()
    assert "Not saved" not in response.content.decode()


def test_a_valid_post_saves_and_schedules_the_reminders(world):
    response = world.client_for(world.admin).post(URL, VALID)
    assert response.status_code == 302 and response["Location"] == URL
    assert _stored(world) == (
        "alerts@clinic.example",
        True,
        dt.time(19, 30),
        "Ice the area for ten minutes.",
    )
    assert Schedule.objects.filter(name=schedule_name(world.clinic)).exists()


def test_an_empty_post_is_refused_naming_the_field_and_creates_nothing(world):
    response = world.client_for(world.admin).post(URL, {})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Not saved. Correct the fields marked below." in body
    assert "Reminder time: This field is required." in body
    assert _stored(world) is None
    assert not Schedule.objects.filter(name=schedule_name(world.clinic)).exists()


def test_an_empty_post_leaves_saved_settings_as_they_were(world):
    client = world.client_for(world.admin)
    assert client.post(URL, VALID).status_code == 302
    before = _stored(world)
    response = client.post(URL, {})
    assert response.status_code == 400
    assert "Reminder time: This field is required." in response.content.decode()
    # Unchecked boxes and empty texts were not taken for "off" and "none".
    assert _stored(world) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("alert_email", "not-an-address", "Alert email: Enter a valid email address."),
        ("reminder_time", "25:99", "Reminder time: Enter a valid time."),
        ("aftercare_advice", "x" * 1001, "Aftercare advice: Ensure this value has at most 1000"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_saves_nothing(world, field, value, message):
    client = world.client_for(world.admin)
    assert client.post(URL, VALID).status_code == 302
    before = _stored(world)
    response = client.post(URL, {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _stored(world) == before


@pytest.mark.parametrize(
    ("role", "status"), [("physician", 403), ("front_desk", 403), ("patient_user", 404)]
)
def test_other_roles_are_refused_before_the_form_is_read(world, role, status):
    response = world.client_for(getattr(world, role)).post(URL, VALID)
    assert response.status_code == status
    assert _stored(world) is None
