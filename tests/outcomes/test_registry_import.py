"""`prolotrack import-registry`: all or nothing, errors that say where, ids never imported twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from prolotrack.accounts.models import Clinic, User
from prolotrack.audit.models import AuditEvent
from prolotrack.diary.models import DiaryEntry
from prolotrack.outcomes.models import RegistrySource, SessionOutcome
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import AdverseEvent, AlgometerReading, Session, TreatmentSeries

pytestmark = pytest.mark.django_db

FILES = {
    "patients.csv": (
        "patient_id,birth_year,sex,weight_kg,diabetes\n"
        "P1,1970,female,68.5,false\n"
        "P2,1955,male,,true\n"
    ),
    "sessions.csv": (
        "session_id,patient_id,date,modality,region,pain_before,pgic\n"
        "S1,P1,2026-01-05,neural,knee,8,\n"
        "S2,P1,2026-01-12,neural,knee,6,3\n"
        "S3,P1,2026-01-19,neural,knee,5,2\n"
        "S4,P2,2026-01-06,classic,lumbar_spine,7,\n"
        "S5,P2,2026-02-06,classic,lumbar_spine,,\n"
    ),
    "algometry.csv": (
        "session_id,site,side,phase,value,unit\n"
        "S1,our_own_point,left,baseline,2.5,kg/cm2\n"
        "S1,our_own_point,left,1min,35,N/cm2\n"
        "S1,our_own_point,left,15min,400,kPa\n"
    ),
    "diary.csv": "patient_id,date,pain\nP1,2026-01-07,4\nP1,2026-01-09,8\nP1,2026-01-14,3\n",
    "adverse_events.csv": (
        "session_id,category,serious\nS4,local_pain_flare,false\nS5,a clinic's own label,true\n"
    ),
}


def write(folder: Path, **changes: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in {**FILES, **changes}.items():
        if text is None:
            continue
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run(folder: Path, clinic: str = "Registry Clinic") -> str:
    out = StringIO()
    call_command("import_registry", str(folder), clinic=clinic, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (Patient, Session, AlgometerReading, DiaryEntry, AdverseEvent, RegistrySource)
    )


def test_it_imports_every_file_into_a_new_clinic(tmp_path):
    text = run(write(tmp_path / "reg"))
    assert "2 patients, 5 sessions, 3 algometer readings" in text
    clinic = Clinic.objects.get(name="Registry Clinic")
    p1 = Patient.objects.get(clinic=clinic, chart_number="P1")
    assert (p1.given_name, p1.family_name, str(p1.birth_date)) == ("", "Registry", "1970-07-01")
    assert TreatmentSeries.objects.filter(clinic=clinic).count() == 2  # by (modality, region)
    importer = User.objects.get(username=f"registry-import-{clinic.pk}")
    assert not importer.is_active and not importer.has_usable_password()
    assert set(Session.objects.values_list("practitioner_id", flat=True)) == {importer.pk}
    assert Session.objects.filter(signed_at__isnull=True).count() == 0
    assert Session.objects.get(pgic=3).pain_before == 6
    readings = {r.unit: r for r in AlgometerReading.objects.all()}
    assert readings["N/cm2"].value_kpa == pytest.approx(350.0)
    assert readings["kg/cm2"].value_kpa == pytest.approx(2.5 * 98.0665)
    assert readings["kPa"].site == "our_own_point"  # not in the catalog: kept as given
    assert set(AdverseEvent.objects.values_list("category", "serious")) == {
        ("local_pain_flare", False),
        ("a clinic's own label", True),
    }
    s1 = RegistrySource.objects.get(kind="session", source_id="S1").object_id
    assert SessionOutcome.objects.get(session_id=s1).relief_days == 4
    event = AuditEvent.objects.get(object_type="registry_import")
    assert (event.action, event.clinic_id, event.detail["sessions"]) == ("create", clinic.pk, 5)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "sessions.csv",
            FILES["sessions.csv"].replace("S3,P1,2026-01-19", "S3,P1,2026-01-32"),
            "sessions.csv, line 4, column \"date\": '2026-01-32' is not a date (YYYY-MM-DD)",
        ),
        (
            "algometry.csv",
            FILES["algometry.csv"] + "S2,x,left,baseline,3,psi\n",
            "algometry.csv, line 5, column \"unit\": 'psi' is not one of kg/cm2, N/cm2, kPa",
        ),
        (
            "algometry.csv",
            FILES["algometry.csv"] + "S1,our_own_point,left,1min,3,kg/cm2\n",
            'algometry.csv, line 5, column "phase": a second 1min reading',
        ),
        (
            "diary.csv",
            FILES["diary.csv"] + "P9,2026-01-20,3\n",
            "diary.csv, line 5, column \"patient_id\": 'P9' is not in patients.csv",
        ),
        (
            "sessions.csv",
            FILES["sessions.csv"].replace("knee,8", "kneecap,8"),
            "sessions.csv, line 2, column \"region\": 'kneecap' is not a region code",
        ),
        (
            "sessions.csv",
            FILES["sessions.csv"].replace("knee,6,3", "knee,11,3"),
            'sessions.csv, line 3, column "pain_before": 11 is not between 0 and 10',
        ),
        (
            "patients.csv",
            FILES["patients.csv"].replace("female", "f"),
            "patients.csv, line 2, column \"sex\": 'f' is not one of",
        ),
        (
            "adverse_events.csv",
            FILES["adverse_events.csv"].replace("false", "no"),
            "adverse_events.csv, line 2, column \"serious\": 'no' is not one of true, false",
        ),
        (
            "algometry.csv",
            "session_id,site,side,phase,value\n",
            'algometry.csv, line 1, column "unit": missing from header',
        ),
    ],
)
def test_a_bad_row_aborts_everything_and_says_where(tmp_path, name, text, message):
    before = counts()
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path / "reg", **{name: text}))
    assert message in str(caught.value)
    assert "Nothing was imported" in str(caught.value)
    assert counts() == before
    assert not Clinic.objects.filter(name="Registry Clinic").exists()


def test_reimporting_the_same_ids_is_refused(tmp_path):
    folder = write(tmp_path / "reg")
    run(folder)
    before = counts()
    with pytest.raises(CommandError) as caught:
        run(folder)
    assert (
        "patients.csv, line 2, column \"patient_id\": 'P1' was imported into 'Registry Clinic' "
        "before; importing the same ids again is refused"
    ) in str(caught.value)
    assert counts() == before


def test_the_same_ids_may_go_into_another_clinic(tmp_path):
    folder = write(tmp_path / "reg")
    run(folder)
    run(folder, clinic="Another Registry")
    assert Patient.objects.filter(chart_number="P1").count() == 2


def test_optional_files_may_be_absent(tmp_path):
    folder = tmp_path / "reg"
    folder.mkdir()
    for name in ("patients.csv", "sessions.csv"):
        (folder / name).write_text(FILES[name], encoding="utf-8")
    run(folder)
    assert Session.objects.count() == 5 and AlgometerReading.objects.count() == 0


def test_a_missing_required_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"sessions\.csv: the file is missing"):
        run(write(tmp_path / "reg", **{"sessions.csv": None}))


def test_the_cli_imports_into_a_fresh_database_and_prints_the_json(tmp_path):
    """Through the real entry point: migrates an empty data folder first, exit codes 0 and 2."""
    env = {**os.environ, "PROLOTRACK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    folder = write(tmp_path / "reg")
    cli = [sys.executable, "-m", "prolotrack"]
    done = subprocess.run(
        [*cli, "import-registry", str(folder), "--clinic", "Fresh"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    again = subprocess.run(
        [*cli, "import-registry", str(folder), "--clinic", "Fresh"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 2 and "refused" in again.stderr
    shown = subprocess.run(
        [*cli, "outcomes", "--format", "json", "--clinic", "Fresh"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert (report["patients"], report["sessions"], report["eligible"]) == (2, 5, 1)
