"""The dashboard's breakdown table: its own request after the page (outcomes:breakdown), with the
dashboard's access, filters and audit, and the numbers of ``outcomes_compute``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.accounts.models import Role, User
from prolotrack.audit.models import AuditEvent
from prolotrack.core.catalog import load_catalog
from prolotrack.outcomes import views
from prolotrack.outcomes.queries import outcomes_compute
from tests.conftest import make_user
from tests.outcomes.helpers import assert_same, synth_clinic_load
from tests.treatment.charting_helpers import record_session

pytestmark = pytest.mark.django_db

URL = reverse("outcomes:breakdown")
# What the dashboard's script sends (static/prolotrack/outcomes.js).
PARTIAL = {"HTTP_X_REQUESTED_WITH": "fetch"}
MODALITIES = {"Neural prolotherapy": "neural", "Classic prolotherapy": "classic"}


@pytest.fixture
def busy(world):
    return synth_clinic_load("Busy Other", seed=3, patients=40)


@pytest.fixture
def doctor(busy):
    return make_user(busy, "busydoc", Role.PHYSICIAN)


def _rows(response: Any) -> dict[str, dict[str, Any]]:
    return {row["label"]: row["report"] for row in response.context["table"]["rows"]}


def _without_drop_out(report: dict[str, Any]) -> dict[str, Any]:
    """Breakdown rows leave drop-out out (reported as 0 of 0, outcomes_by)."""
    out = dict(report)
    out.pop("drop_out_after_first")
    return out


def test_the_rows_are_the_numbers_of_outcomes_compute_for_each_group(world, busy, doctor):
    response = world.client_for(doctor).get(URL, **PARTIAL)
    assert response.status_code == 200
    rows = _rows(response)
    assert set(rows) == set(MODALITIES)  # the generated clinic has both
    for label, report in rows.items():
        expected = outcomes_compute(busy, modality=MODALITIES[label])
        assert report["drop_out_after_first"]["of"] == 0
        assert_same(_without_drop_out(report), _without_drop_out(expected))
    # The sessions of the groups are the clinic's sessions, each counted once.
    assert sum(r["sessions"] for r in rows.values()) == outcomes_compute(busy)["sessions"]
    body = response.content.decode()
    assert "<html" not in body and "<table>" in body  # the table alone, for the page's script
    for label, report in rows.items():
        assert f'<th scope="row">{label}</th>' in body
        assert f'<td class="num">{report["sessions"]}</td>' in body


def test_every_dimension_gives_its_groups(world, busy, doctor):
    client = world.client_for(doctor)
    regions = {r.name: code for code, r in load_catalog().regions.items()}
    by_region = _rows(client.get(URL, {"by": "region"}, **PARTIAL))
    assert by_region
    for label, report in by_region.items():
        expected = outcomes_compute(busy, region=regions[label])
        assert_same(_without_drop_out(report), _without_drop_out(expected))
    names = {u.display_name: u.pk for u in User.objects.filter(clinic=busy)}
    by_practitioner = _rows(client.get(URL, {"by": "practitioner"}, **PARTIAL))
    assert len(by_practitioner) > 1
    for label, report in by_practitioner.items():
        expected = outcomes_compute(busy, practitioner_id=names[label])
        assert_same(_without_drop_out(report), _without_drop_out(expected))
    for by in ("condition", "period"):
        response = client.get(URL, {"by": by}, **PARTIAL)
        assert response.status_code == 200 and _rows(response)
        assert response.context["table"]["key"] == by


def test_the_filters_are_applied(world, busy, doctor):
    filters = {"modality": "classic", "date_from": "2026-01-01", "threshold": "2.0"}
    response = world.client_for(doctor).get(URL, {**filters, "by": "region"}, **PARTIAL)
    assert response.status_code == 200
    rows = _rows(response)
    assert rows
    regions = {r.name: code for code, r in load_catalog().regions.items()}
    for label, report in rows.items():
        expected = outcomes_compute(
            busy,
            date_from=dt.date(2026, 1, 1),
            modality="classic",
            region=regions[label],
            threshold_kg_cm2=2.0,
        )
        assert_same(_without_drop_out(report), _without_drop_out(expected))
        assert report["immediate"]["threshold_kg_cm2"] == 2.0
    everything = _rows(world.client_for(doctor).get(URL, {"by": "region"}, **PARTIAL))
    assert sum(r["sessions"] for r in rows.values()) < sum(
        r["sessions"] for r in everything.values()
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2026-13-01"}, "From (date_from)", "Enter a valid date."),
        ({"by": "patient"}, "Break down by (by)", "Select a valid choice."),
        ({"threshold": "0"}, "(threshold)", "greater than or equal to 0.1"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "To (date_to)", "end date"),
        ({"modality": "laser"}, "Modality (modality)", "Select a valid choice."),
    ],
)
def test_a_bad_filter_is_refused_naming_the_field(world, params, field, message):
    record_session(world)
    client = world.client_for(world.physician)
    for extra in (PARTIAL, {}):
        response = client.get(URL, params, **extra)
        assert response.status_code == 400
        body = response.content.decode()
        assert field in body and message in body
        assert "table" not in response.context
    assert not AuditEvent.objects.filter(action="list").exists()  # nothing was shown


@pytest.mark.parametrize("role", ["front_desk", "patient"])
def test_front_desk_and_patients_are_refused_and_recorded(world, role):
    record_session(world)
    response = world.client_for(world.roles[role]).get(URL, **PARTIAL)
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access_refused")
    assert (event.outcome, event.object_type, event.user_id) == (
        "refused",
        "outcomes",
        world.roles[role].pk,
    )
    assert not AuditEvent.objects.filter(action="list").exists()


def test_the_signed_out_are_sent_to_sign_in(client):
    response = client.get(URL, **PARTIAL)
    assert response.status_code == 302 and "next=" in response["Location"]


@pytest.mark.parametrize("role", ["physician", "clinic_admin"])
def test_staff_see_only_their_own_clinics_groups(world, busy, role):
    record_session(world)
    response = world.client_for(world.roles[role]).get(URL, **PARTIAL)
    assert response.status_code == 200
    [(label, report)] = _rows(response).items()
    assert (label, report["patients"], report["sessions"]) == ("Neural prolotherapy", 1, 1)


def test_an_auditor_sees_it(world):
    record_session(world)
    auditor = make_user(world.clinic, "aud", Role.AUDITOR)
    assert world.client_for(auditor).get(URL, **PARTIAL).status_code == 200


def test_a_clinic_without_sessions_says_so(world):
    response = world.client_for(world.other_physician).get(URL, **PARTIAL)
    assert response.status_code == 200
    assert "No sessions match these filters yet." in response.content.decode()


def test_it_is_audited_as_a_list_of_the_outcomes(world, busy, doctor):
    response = world.client_for(doctor).get(URL, **PARTIAL)
    event = AuditEvent.objects.get(action="list")
    rows = _rows(response)
    assert (event.object_type, event.user_id, event.clinic_id) == ("outcomes", doctor.pk, busy.pk)
    assert event.patient_id is None
    assert event.detail == {
        "by": "modality",
        "groups": 2,
        "sessions": sum(r["sessions"] for r in rows.values()),
    }


def test_without_script_the_link_opens_it_as_a_page(world, busy, doctor):
    query = {"by": "region", "modality": "neural"}
    response = world.client_for(doctor).get(URL, query)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "Outcomes of Busy Other by region" in body
    rows = _rows(response)
    assert rows and all(f'<th scope="row">{label}</th>' in body for label in rows)
    assert 'href="/outcomes/?by=region&amp;modality=neural"' in body  # back, same filters
    assert 'href="/outcomes/export/?table=by_region&amp;by=region&amp;modality=neural"' in body


def test_the_dashboard_loads_it_after_the_page(world, busy, doctor, monkeypatch):
    def second_pass(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the dashboard page ran the breakdown")

    monkeypatch.setattr(views, "breakdowns", second_pass)
    client = world.client_for(doctor)
    response = client.get(reverse("outcomes:dashboard"), {"by": "practitioner"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "By practitioner" in body
    # The script's address, and the same address as the plain link without script.
    link = "/outcomes/breakdown/?by=practitioner"
    assert f'data-breakdown-url="{link}"' in body and f'<a href="{link}">' in body
    assert 'src="/static/prolotrack/outcomes.js"' in body
    assert "/outcomes/export/?table=by_practitioner&amp;by=practitioner" in body
    # One event for the page: the breakdown's own request records its own.
    assert AuditEvent.objects.filter(action="list").count() == 1


def test_the_csv_of_a_breakdown_is_unchanged(world, busy, doctor):
    client = world.client_for(doctor)
    csv = client.get(reverse("outcomes:export"), {"table": "by_modality"})
    assert csv.status_code == 200
    lines = csv.content.decode().strip().splitlines()
    assert lines[0].startswith("group,patients,sessions,eligible,responders_30")
    rows = _rows(client.get(URL, **PARTIAL))
    for line in lines[1:]:
        label, patients, sessions = line.split(",")[:3]
        assert (int(patients), int(sessions)) == (
            rows[label]["patients"],
            rows[label]["sessions"],
        )
