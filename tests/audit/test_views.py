"""The audit page and its CSV export: a clinic's administrators and auditors, own clinic only."""

from __future__ import annotations

import csv
import datetime as dt
import io

import html5lib
import pytest
from django.urls import reverse
from django.utils import timezone

from prolotrack.accounts.models import Role, User
from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import audit_record

READERS = ["clinic_admin", "auditor"]
REFUSED = [
    "physician",
    "naturopathic_doctor",
    "nurse_practitioner",
    "front_desk",
    "patient",
    "other_clinic_physician",
]


@pytest.fixture
def auditor(world) -> User:
    return User.objects.create_user(
        username="reviewer", password="not-used-here", clinic=world.clinic, role=Role.AUDITOR
    )


@pytest.fixture
def users(world, auditor) -> dict[str, User]:
    return {**world.roles, "auditor": auditor}


def record_for(user, **fields):
    """An event as if `user` had done something."""
    return audit_record(user=user, **{"action": "read", "object_type": "patient", **fields})


def page_text(response) -> str:
    return response.content.decode()


def event_ids_on_page(response) -> list[int]:
    document = html5lib.parse(response.content, namespaceHTMLElements=False)
    return [int(row.find("td").text) for row in document.iterfind(".//tbody/tr")]


@pytest.mark.parametrize("role", READERS)
def test_it_shows_the_page_to_administrators_and_auditors(world, users, role):
    response = world.client_for(users[role]).get(reverse("audit:list"))
    assert response.status_code == 200
    assert "Audit trail" in page_text(response)


@pytest.mark.parametrize("role", REFUSED)
def test_it_refuses_the_page_and_the_export_to_everyone_else(world, users, audit_log, role):
    client = world.client_for(users[role])
    mark = audit_log.mark()
    assert client.get(reverse("audit:list")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
    refusals = audit_log.since(mark)
    assert [(e.action, e.object_type) for e in refusals] == [("access_refused", "audit_event")] * 2
    assert not AuditEvent.objects.filter(action="export").exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_shows_only_the_clinics_own_events_newest_first(world, auditor):
    ours = [record_for(world.physician, object_id=f"OURS-{i}") for i in range(3)]
    record_for(world.other_physician, object_id="THEIRS-1")
    response = world.client_for(auditor).get(reverse("audit:list"))
    body = page_text(response)
    assert "OURS-0" in body and "OURS-2" in body
    assert "THEIRS-1" not in body and "otherdoc" not in body
    ids = event_ids_on_page(response)
    assert ids == sorted(ids, reverse=True)
    assert {e.id for e in ours} <= set(ids)
    other_ids = set(
        AuditEvent.objects.exclude(clinic_id=world.clinic.pk).values_list("id", flat=True)
    )
    assert not other_ids & set(ids)


def test_it_filters_by_action_user_and_patient(world, auditor):
    client = world.client_for(auditor)
    read = record_for(world.physician, target=world.patient)
    change = record_for(world.front_desk, action="change", target=world.patient)
    listing = record_for(world.front_desk, action="list")

    ids = event_ids_on_page(client.get(reverse("audit:list"), {"action": "change"}))
    assert ids == [change.id]
    ids = event_ids_on_page(client.get(reverse("audit:list"), {"user": "drphys"}))
    assert read.id in ids and change.id not in ids and listing.id not in ids
    ids = event_ids_on_page(
        client.get(reverse("audit:list"), {"patient_id": world.patient.pk, "user": "desk"})
    )
    assert ids == [change.id]
    body = page_text(client.get(reverse("audit:list"), {"action": "export"}))
    assert "No event matches these filters." in body


def test_it_filters_by_whole_days_in_the_clinics_time_zone(world, auditor, monkeypatch):
    # 07:30 UTC on 8 March 2026 is 23:30 on 7 March in Vancouver (PST, UTC-8): DST starts later
    # that night, so 23:30 on 8 March there is 06:30 UTC on the 9th (PDT, UTC-7).
    moments = {
        "LATE-ON-THE-7TH": dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC),
        "LATE-ON-THE-8TH": dt.datetime(2026, 3, 9, 6, 30, tzinfo=dt.UTC),
        "EARLY-ON-THE-9TH": dt.datetime(2026, 3, 9, 7, 30, tzinfo=dt.UTC),
    }
    for label, moment in moments.items():
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda moment=moment: moment)
            record_for(world.physician, object_id=label)
    client = world.client_for(auditor)
    body = page_text(
        client.get(reverse("audit:list"), {"date_from": "2026-03-08", "date_to": "2026-03-08"})
    )
    assert "LATE-ON-THE-8TH" in body
    assert "LATE-ON-THE-7TH" not in body and "EARLY-ON-THE-9TH" not in body
    body = page_text(client.get(reverse("audit:list"), {"date_to": "2026-03-07"}))
    assert "LATE-ON-THE-7TH" in body and "LATE-ON-THE-8TH" not in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "drop table"}, "Select a valid choice."),
        ({"outcome": "maybe"}, "Select a valid choice."),
        ({"user": "nobody-here"}, "Select a valid choice."),
        ({"user": "otherdoc"}, "Select a valid choice."),  # another clinic's account
        ({"patient_id": "1 OR 1=1"}, "Enter a whole number."),
        ({"patient_id": "-4"}, "Ensure this value is greater than or equal to 1."),
        ({"patient_id": str(2**70)}, "Ensure this value is less than or equal to"),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "0001-01-01"}, "Enter a date between 1900-01-01 and 2999-12-31."),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "The end date is before the start"),
    ],
)
def test_it_answers_a_bad_filter_with_400_and_a_clear_message(world, auditor, params, message):
    record_for(world.physician, object_id="SHOULD-NOT-SHOW")
    response = world.client_for(auditor).get(reverse("audit:list"), params)
    assert response.status_code == 400
    body = page_text(response)
    assert message in body
    assert "These filters cannot be used." in body
    assert "SHOULD-NOT-SHOW" not in body


def test_it_paginates_and_keeps_the_filters_on_the_page_links(world, auditor, settings):
    settings.PAGE_SIZE = 5
    for i in range(12):
        record_for(world.physician, action="change", object_id=f"C{i}")
    client = world.client_for(auditor)
    first = client.get(reverse("audit:list"), {"action": "change"})
    assert "Page 1 of 3" in page_text(first)
    assert "?action=change&amp;page=2" in page_text(first)
    third = client.get(reverse("audit:list"), {"action": "change", "page": "3"})
    assert "Page 3 of 3" in page_text(third)
    assert len(event_ids_on_page(third)) == 2
    assert client.get(reverse("audit:list"), {"page": "abc"}).status_code == 200


def test_the_page_has_no_inline_style_or_script(world, auditor):
    record_for(world.physician, break_glass=True, outcome="refused")
    response = world.client_for(auditor).get(reverse("audit:list"))
    document = html5lib.parse(response.content, namespaceHTMLElements=False)
    for element in document.iter():
        assert "style" not in element.attrib, element.tag
        assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag
    assert all(script.get("src") for script in document.iterfind(".//script"))
    assert not list(document.iterfind(".//style"))


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_it_exports_the_filtered_events_as_csv(world, auditor, audit_log):
    change = record_for(world.front_desk, action="change", target=world.patient)
    record_for(world.physician, target=world.patient)
    record_for(world.other_physician, action="change", object_id="THEIRS")
    response = world.client_for(auditor).get(reverse("audit:export"), {"action": "change"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = read_csv(response)
    assert [int(r["id"]) for r in rows] == [change.id]
    row = rows[0]
    assert row["username"] == "desk" and row["patient_id"] == str(world.patient.pk)
    assert row["hash"] == change.hash and row["at_utc"].endswith("+00:00")


def test_the_export_is_itself_audited(world, auditor, audit_log):
    client = world.client_for(auditor)
    mark = audit_log.mark()
    response = client.get(reverse("audit:export"), {"user": "desk", "patient_id": world.patient.pk})
    rows = read_csv(response)
    [event] = audit_log.since(mark)
    assert (event.action, event.outcome, event.object_type) == ("export", "ok", "audit_event")
    assert event.user_id == auditor.pk and event.role == "auditor"
    assert event.clinic_id == world.clinic.pk
    assert event.detail == {"user_id": world.front_desk.pk, "patient_id": world.patient.pk}
    assert rows == []  # the export matches none of its own filters
    everything = read_csv(client.get(reverse("audit:export")))
    assert int(everything[-1]["id"]) == event.id + 1  # the second export lists itself
    assert everything[-1]["action"] == "export"


def test_a_bad_export_filter_exports_nothing_and_records_no_export(world, auditor, audit_log):
    client = world.client_for(auditor)
    mark = audit_log.mark()
    response = client.get(reverse("audit:export"), {"action": "nope"})
    assert response.status_code == 400
    assert "Select a valid choice." in page_text(response)
    assert audit_log.since(mark) == []


def test_the_export_defuses_spreadsheet_formulas(world, auditor):
    record_for(world.physician, object_id='=HYPERLINK("http://x")')
    rows = read_csv(world.client_for(auditor).get(reverse("audit:export")))
    assert any(r["object_id"] == '\'=HYPERLINK("http://x")' for r in rows)
    assert not any(value.startswith(("=", "+", "@")) for r in rows for value in r.values())
