"""`prolotrack backup` and the round trip through `prolotrack restore` (RELIABILITY.md T27)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import threading
import tracemalloc
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from prolotrack.accounts.models import Clinic
from prolotrack.core.synth import generate_clinic
from prolotrack.demo.loader import clinic_load
from prolotrack.ops import backup as backup_module
from prolotrack.ops import tables
from prolotrack.ops.backup import MANIFEST, backup_create
from prolotrack.ops.scoping import scopes_disabled
from prolotrack.patients.models import Patient
from tests.ops.archive_helpers import (
    database_tables,
    digests,
    empty_database,
    raw_rows,
    read_manifest,
    read_rows,
    row_counts,
)

TODAY = dt.date(2026, 11, 20)


def sqlite_env(data_dir: Path) -> dict[str, str]:
    """The environment of a prolotrack process on its own SQLite file, and nothing else."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "PROLOTRACK_"))
    }
    return {**inherited, "PROLOTRACK_DATA_DIR": str(data_dir), "DATABASE_URL": ""}


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = sqlite_env(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "prolotrack", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_it_restores_a_clinic_into_an_empty_database_row_for_row(clinic_data, archive):
    before, rows = digests(), raw_rows()
    assert before["treatment.injection"][0] > 0 and before["accounts.user_groups"][0] == 1
    empty_database()

    out = StringIO()
    call_command("restore", str(archive), stdout=out)

    assert digests() == before
    assert raw_rows() == rows
    output = out.getvalue()
    for label, (count, _) in before.items():
        assert any(line.split()[:3] == [label, str(count), "rows"] for line in output.splitlines())
    assert "Restored" in output and " s;" in output


def test_it_records_what_the_restore_must_match_in_the_manifest(clinic_data, archive):
    manifest = read_manifest(archive)
    current = digests()

    assert manifest["format"] == "prolotrack-backup" and manifest["format_version"] == 1
    assert manifest["prolotrack_version"] == "0.1.0"
    assert manifest["database_vendor"] == connection.vendor
    created = dt.datetime.fromisoformat(manifest["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=5)
    applied = sorted(MigrationRecorder(connection).applied_migrations())
    assert [tuple(m) for m in manifest["migrations"]] == applied
    with tarfile.open(archive) as tar:
        for entry in manifest["tables"]:
            data = tar.extractfile(entry["file"]).read()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            lines = gzip.decompress(data)
            assert hashlib.sha256(lines).hexdigest() == entry["content_sha256"]
            assert (entry["rows"], entry["content_sha256"]) == current[entry["model"]]
            assert len(lines.splitlines()) == entry["rows"]
        assert tar.getnames()[-1] == MANIFEST


def test_it_holds_every_table_of_prolotrack_and_the_groups_users_belong_to(archive):
    labels = {entry["model"] for entry in read_manifest(archive)["tables"]}
    ours = {
        model._meta.label_lower
        for config in apps.get_app_configs()
        if config.name.startswith("prolotrack.")
        for model in config.get_models(include_auto_created=True)
    }
    assert ours <= labels
    assert {"accounts.user", "accounts.user_groups", "auth.group", "auth.group_permissions"} <= (
        labels
    )
    # Sessions are not worth restoring; content types and permissions every database makes.
    assert not labels & {"sessions.session", "contenttypes.contenttype", "auth.permission"}


def test_it_writes_parents_before_the_rows_that_refer_to_them(archive):
    order = [entry["model"] for entry in read_manifest(archive)["tables"]]
    tables, _ = database_tables()
    for table in tables:
        for field in table.fields:
            parent = field.related_model
            if parent is not None and parent._meta.label_lower in order and parent != table.model:
                assert order.index(parent._meta.label_lower) < order.index(table.label)


def test_it_refers_to_permissions_by_natural_key(archive):
    manifest = read_manifest(archive)
    entry = next(t for t in manifest["tables"] if t["model"] == "accounts.user_user_permissions")
    column = entry["columns"].index("permission_id")
    rows = read_rows(archive, "accounts.user_user_permissions")
    assert [row[column] for row in rows] == [["view_patient", "patients", "patient"]]


def test_it_makes_the_archive_readable_by_its_owner_only(archive):
    assert archive.stat().st_mode & 0o777 == 0o600


def test_new_rows_get_new_keys_after_a_restore(clinic_data, archive):
    highest = Clinic.objects.order_by("-pk").first().pk
    empty_database()
    call_command("restore", str(archive), stdout=StringIO())
    assert Clinic.objects.create(name="Opened after the restore").pk > highest


def test_it_reads_one_snapshot_while_another_connection_writes(clinic_data, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("in-memory SQLite shares one cache; the WAL case runs in a subprocess")
    before = row_counts()
    failures: list[BaseException] = []

    def write_from_another_connection() -> None:
        # Another process of the operator's: a thread starts outside any scope (ops.scoping).
        try:
            with scopes_disabled(), transaction.atomic():
                other = Clinic.objects.create(name="Written during the backup")
                Patient.objects.create(
                    clinic=other,
                    chart_number="W-1",
                    given_name="Wren",
                    family_name="Late",
                    birth_date=dt.date(1980, 1, 1),
                )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    def after_first_table(done: backup_module.TableDone) -> None:
        if done.label == "accounts.clinic":
            writer = threading.Thread(target=write_from_another_connection)
            writer.start()
            writer.join()

    path = tmp_path / "during-writes.tar"
    backup_create(path, progress=after_first_table)

    assert not failures
    assert Patient.objects.filter(chart_number="W-1").exists()
    rows = {t["model"]: t["rows"] for t in read_manifest(path)["tables"]}
    assert rows["patients.patient"] == before["patients.patient"]
    assert rows["accounts.clinic"] == before["accounts.clinic"]


def test_its_memory_does_not_grow_with_the_database(transactional_db, tmp_path, monkeypatch):
    # Small read chunks, so that what a chunk holds is negligible next to the data.
    monkeypatch.setattr(tables, "CHUNK_ROWS", 100)

    def peak_bytes(patients: int, name: str) -> tuple[int, int]:
        call_command("flush", interactive=False, verbosity=0)
        clinic_load(generate_clinic(seed=patients, patients=patients, today=TODAY))
        backup_create(tmp_path / f"warm-{name}.tar")  # imports and caches, once
        tracemalloc.start()
        try:
            manifest = backup_create(tmp_path / f"{name}.tar")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak, sum(t["rows"] for t in manifest["tables"])

    small_peak, small_rows = peak_bytes(10, "small")
    large_peak, large_rows = peak_bytes(150, "large")

    assert large_rows > 10 * small_rows
    # Holding the large clinic's lines would take megabytes more.
    assert large_peak - small_peak < 500_000, (small_peak, large_peak)


SNAPSHOT_SCRIPT = """
import datetime as dt, json, pathlib, sys
import django
django.setup()
from prolotrack.ops.scoping import scopes_disabled_here

scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)
from django.core.management import call_command
from django.db import connections
call_command("migrate", verbosity=0)
from prolotrack.accounts.models import Clinic
from prolotrack.core.synth import generate_clinic
from prolotrack.demo.loader import clinic_load
from prolotrack.ops.backup import backup_create
from prolotrack.patients.models import Patient
clinic_load(generate_clinic(seed=3, patients=3, today=dt.date(2026, 11, 20)))
connections.settings["writer"] = dict(connections["default"].settings_dict)
before = Patient.objects.count()
def write(done):
    if done.label == "accounts.clinic":
        other = Clinic.objects.using("writer").create(name="Written during the backup")
        Patient.objects.using("writer").create(
            clinic=other, chart_number="W-1", given_name="Wren", family_name="Late",
            birth_date=dt.date(1980, 1, 1),
        )
manifest = backup_create(pathlib.Path(sys.argv[1]), progress=write)
rows = {t["model"]: t["rows"] for t in manifest["tables"]}
with connections["default"].cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
print(json.dumps({
    "journal": journal, "before": before, "after": Patient.objects.count(),
    "archived": rows["patients.patient"],
}))
"""


def test_it_reads_one_snapshot_of_a_wal_sqlite_file_while_the_clinic_writes(tmp_path):
    env = {**sqlite_env(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "prolotrack.settings"}
    result = subprocess.run(
        [sys.executable, "-c", SNAPSHOT_SCRIPT, str(tmp_path / "during-writes.tar")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["journal"] == "wal"
    # The write went through while the backup read (WAL readers do not block the writer), and
    # the archive is the database as it was when the backup began.
    assert report["after"] == report["before"] + 1
    assert report["archived"] == report["before"]


def test_it_round_trips_between_two_sqlite_files_from_the_command_line(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    first, second = tmp_path / "first.tar", tmp_path / "second.tar"
    output = {}
    for args, data_dir in [
        (("demo", "--no-serve", "--patients", "3"), source),
        (("backup", str(first)), source),
        (("migrate", "--no-input"), target),
        (("restore", str(first)), target),
        (("backup", str(second)), target),
    ]:
        result = run_cli(*args, data_dir=data_dir)
        assert result.returncode == 0, (args, result.stderr)
        output[args[0]] = result.stdout
    assert "Restored" in output["restore"]
    tables = [(t["model"], t["rows"], t["content_sha256"]) for t in read_manifest(first)["tables"]]
    assert tables == [
        (t["model"], t["rows"], t["content_sha256"]) for t in read_manifest(second)["tables"]
    ]
    assert dict((m, r) for m, r, _ in tables)["patients.patient"] == 3


def test_it_refuses_to_overwrite_a_file(db, tmp_path):
    path = tmp_path / "there.tar"
    path.write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(path), stdout=StringIO())
    assert path.read_text() == "keep me"


def test_it_leaves_no_file_behind_when_a_backup_fails(clinic_data, tmp_path, monkeypatch):
    def broken(table, **kwargs):
        if table.label == "patients.patient":
            raise OSError("disk full")
        yield from original(table, **kwargs)

    original = backup_module.table_lines
    monkeypatch.setattr(backup_module, "table_lines", broken)
    with pytest.raises(CommandError, match="No backup written: disk full"):
        call_command("backup", str(tmp_path / "clinic.tar"), stdout=StringIO())
    assert list(tmp_path.iterdir()) == []


def test_it_needs_a_file_to_write(db):
    with pytest.raises(CommandError, match="the following arguments are required: file"):
        call_command("backup")
