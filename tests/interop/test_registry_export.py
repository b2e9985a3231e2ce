"""Research CSV export: the registry format, identified or de-identified, streamed, atomic."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import DiaryEntry
from prolotrack.interop.registry_export import FILES, MAX_SHIFT_DAYS, export_registry
from prolotrack.treatment.models import Session
from prolotrack.treatment.services import adverse_event_add
from tests.treatment.charting_helpers import WHEN, record_session


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def charted(world):
    first = record_session(world, when=WHEN, pain_before=6)
    second = record_session(world, when=WHEN + dt.timedelta(days=7), pain_before=4)
    Session.objects.filter(pk=second.pk).update(pgic=2)
    adverse_event_add(
        session=first, category="bruising_haematoma", serious=False, onset=WHEN.date()
    )
    for day, pain in [(3, 2), (5, 6), (9, 3)]:
        DiaryEntry.objects.create(
            clinic=world.clinic,
            patient=world.patient,
            entry_date=WHEN.date() + dt.timedelta(days=day),
            pain=pain,
        )
    return world, first, second


def test_identified_export_writes_every_file_with_its_header(charted, tmp_path):
    world, first, second = charted
    out = tmp_path / "reg"
    counts = export_registry(world.clinic, out, deidentify=False)
    for name, header in FILES.items():
        with (out / name).open(encoding="utf-8") as handle:
            assert handle.readline().strip() == ",".join(header)
    [patient] = read(out, "patients.csv")
    assert patient == {
        "patient_id": "A-001",
        "birth_year": "1971",
        "sex": "female",
        "weight_kg": "68",
        "diabetes": "false",
    }
    sessions = read(out, "sessions.csv")
    assert [s["session_id"] for s in sessions] == [f"S{first.pk}", f"S{second.pk}"]
    assert sessions[0] == {
        "session_id": f"S{first.pk}",
        "patient_id": "A-001",
        "date": "2026-11-02",  # 09:30 in the clinic's zone
        "modality": "neural",
        "region": "knee",
        "pain_before": "6",
        "pgic": "",
    }
    assert sessions[1]["pgic"] == "2"
    readings = read(out, "algometry.csv")
    assert {(r["phase"], r["value"], r["unit"]) for r in readings} == {
        ("baseline", "2.5", "kg/cm2"),
        ("15min", "3.5", "kg/cm2"),
    }
    assert [d["pain"] for d in read(out, "diary.csv")] == ["2", "6", "3"]
    assert read(out, "adverse_events.csv") == [
        {"session_id": f"S{first.pk}", "category": "bruising_haematoma", "serious": "false"}
    ]
    assert (counts.patients, counts.sessions, counts.readings) == (1, 2, 4)


def test_other_clinics_rows_never_leave(charted, tmp_path):
    world, *_ = charted
    out = tmp_path / "reg"
    export_registry(world.clinic, out, deidentify=False)
    ids = [p["patient_id"] for p in read(out, "patients.csv")]
    assert ids == ["A-001"]  # not B-001 of the other clinic


def test_deidentified_export_keeps_intervals_and_nothing_else(charted, tmp_path):
    world, first, _second = charted
    plain, anon = tmp_path / "plain", tmp_path / "anon"
    export_registry(world.clinic, plain, deidentify=False)
    export_registry(world.clinic, anon, deidentify=True)
    [patient] = read(anon, "patients.csv")
    assert patient["patient_id"] != "A-001" and patient["patient_id"].startswith("p-")
    assert patient["birth_year"] == "1971"
    text = "".join((anon / name).read_text(encoding="utf-8") for name in FILES)
    for secret in ["A-001", world.patient.given_name, world.patient.family_name, f"S{first.pk}"]:
        assert secret not in text

    def days(folder: Path) -> list[dt.date]:
        found = [dt.date.fromisoformat(s["date"]) for s in read(folder, "sessions.csv")]
        found += [dt.date.fromisoformat(d["date"]) for d in read(folder, "diary.csv")]
        return found

    real, shifted = days(plain), days(anon)
    offsets = {(b - a).days for a, b in zip(real, shifted, strict=True)}
    assert len(offsets) == 1  # one shift for all of the patient's dates
    assert abs(offsets.pop()) <= MAX_SHIFT_DAYS
    # Readings and adverse events point at the same pseudonymous sessions.
    session_ids = {s["session_id"] for s in read(anon, "sessions.csv")}
    assert {r["session_id"] for r in read(anon, "algometry.csv")} <= session_ids
    assert {e["session_id"] for e in read(anon, "adverse_events.csv")} <= session_ids


def test_two_deidentified_exports_do_not_share_ids(charted, tmp_path):
    world, *_ = charted
    export_registry(world.clinic, tmp_path / "a", deidentify=True)
    export_registry(world.clinic, tmp_path / "b", deidentify=True)
    a = read(tmp_path / "a", "patients.csv")[0]["patient_id"]
    b = read(tmp_path / "b", "patients.csv")[0]["patient_id"]
    assert a != b


def test_the_folder_is_readable_by_its_owner_only(charted, tmp_path):
    world, *_ = charted
    out = tmp_path / "reg"
    export_registry(world.clinic, out, deidentify=False)
    assert out.stat().st_mode & 0o077 == 0


def test_refuses_a_folder_that_is_not_empty_and_writes_nothing(charted, tmp_path):
    world, *_ = charted
    out = tmp_path / "reg"
    out.mkdir()
    (out / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ValueError, match=r"DIR: .* is not an empty folder"):
        export_registry(world.clinic, out, deidentify=False)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failed_export_leaves_no_partial_folder(charted, tmp_path, monkeypatch):
    world, *_ = charted
    from prolotrack.interop import registry_export

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry_export, "_patients", broken)
    with pytest.raises(RuntimeError):
        export_registry(world.clinic, tmp_path / "reg", deidentify=False)
    assert list(tmp_path.iterdir()) == []


def test_command_exports_and_audits(charted, tmp_path):
    world, *_ = charted
    stdout = io.StringIO()
    call_command(
        "export_registry",
        str(tmp_path / "reg"),
        "--clinic",
        world.clinic.name,
        "--deidentify",
        stdout=stdout,
    )
    assert "de-identified registry CSV" in stdout.getvalue()
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.clinic_id) == ("export", world.clinic.pk)
    assert event.detail["deidentified"] is True


def test_command_needs_a_clinic_when_there_are_several(charted, tmp_path):
    with pytest.raises(CommandError, match="--clinic: there are several clinics"):
        call_command("export_registry", str(tmp_path / "reg"))
    with pytest.raises(CommandError, match="--clinic: no clinic named 'Nowhere'"):
        call_command("export_registry", str(tmp_path / "reg"), "--clinic", "Nowhere")
    assert not (tmp_path / "reg").exists()


def test_deidentified_ages_over_89_are_grouped_at_90(world, tmp_path):
    from prolotrack.interop.registry_export import OLDEST_AGE

    world.patient.birth_date = dt.date(1920, 5, 1)
    world.patient.save()
    export_registry(world.clinic, tmp_path / "anon", deidentify=True)
    export_registry(world.clinic, tmp_path / "plain", deidentify=False)
    this_year = dt.date.today().year
    assert read(tmp_path / "anon", "patients.csv")[0]["birth_year"] == str(this_year - OLDEST_AGE)
    assert read(tmp_path / "plain", "patients.csv")[0]["birth_year"] == "1920"
