"""The patient's own view (pain over time, relief per session), their download, and the chart."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import DiaryEntry
from tests.diary.conftest import patient_client, session_on, today_in_clinic


def _diary(world):
    today = today_in_clinic()
    first = session_on(world, today - dt.timedelta(days=10), pain_before=7)
    second = session_on(world, today - dt.timedelta(days=3), pain_before=6)
    for offset, pain in [(9, 3), (8, 5), (7, 7), (2, 2), (1, 3)]:
        DiaryEntry.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            entry_date=today - dt.timedelta(days=offset),
            pain=pain,
            note='=HYPERLINK("x")' if offset == 1 else "",
        )
    return first, second


def test_the_progress_page_charts_pain_and_lists_relief_per_session(world):
    _diary(world)
    response = patient_client(world).get(reverse("diary:progress"))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="line-chart"' in body and "Your pain, 0 to 10, by diary day" in body
    assert "3 days" in body  # session 1: pain 7 again on day 3
    assert "2+ days (still relieved)" in body  # session 2: censored at the last entry
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id) == ("read", world.patient.pk)


def test_the_json_download_holds_the_patients_data_and_is_audited_as_an_export(world):
    _diary(world)
    response = patient_client(world).get(reverse("diary:export_json"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["patient"]["chart_number"] == "A-001"
    assert len(data["diary"]) == 5
    [series] = data["series"]
    assert [s["relief_days"] for s in series["sessions"]] == [3, 2]
    assert [s["relief_ended"] for s in series["sessions"]] == [True, False]
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id, event.detail["format"]) == (
        "export",
        world.patient.pk,
        "json",
    )


def test_the_csv_download_has_a_row_per_session_and_entry_and_defuses_formulas(world):
    _diary(world)
    response = patient_client(world).get(reverse("diary:export_csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["record"] for r in rows].count("session") == 2
    assert [r["record"] for r in rows].count("diary") == 5
    assert any(r["note"].startswith("'=HYPERLINK") for r in rows)
    assert AuditEvent.objects.order_by("-id").first().detail["format"] == "csv"


def test_the_downloads_leave_out_the_clinicians_session_notes(world):
    first, _ = _diary(world)
    first.notes = "Clinician-only session note 4711"
    first.save(update_fields=["notes"])
    client = patient_client(world)
    for name in ("diary:export_json", "diary:export_csv"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "4711" not in response.content.decode()


def test_an_unknown_export_format_is_404(world):
    assert patient_client(world).get("/diary/export.xml").status_code == 404


def test_the_chart_shows_relief_beside_each_session_and_as_a_trend(world):
    _diary(world)
    body = (
        world.client_for(world.physician)
        .get(reverse("treatment:chart", args=[world.patient.pk]))
        .content.decode()
    )
    assert '<th scope="col">Relief</th>' in body
    assert "3 days" in body and "2+ days (still relieved)" in body
    assert "Days of relief after each session" in body
    assert 'id="diary"' in body and "Invite to the pain diary" not in body  # already signed up


def test_the_clinicians_diary_page_lists_the_entries(world):
    _diary(world)
    response = world.client_for(world.physician).get(
        reverse("diary:patient_entries", args=[world.patient.pk])
    )
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 6  # header + 5 entries


def test_the_information_pages_give_sources_and_say_where_evidence_is_weak(world):
    client = patient_client(world)
    index = client.get(reverse("diary:info")).content.decode()
    assert "Chronic low back pain" in index and "weak or mixed" in index
    assert "Cochrane" in index and "DOMAIN.md 5" in index
    for slug in ("neural", "classic", "aftercare", "warning-signs"):
        page = client.get(reverse("diary:info_topic", args=[slug])).content.decode()
        assert "Sources" in page and "DOMAIN.md" in page
    assert client.get(reverse("diary:info_topic", args=["nope"])).status_code == 404
