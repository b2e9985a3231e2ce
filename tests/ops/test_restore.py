"""`prolotrack restore` refuses what it cannot restore whole, and then writes nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from prolotrack.accounts.models import Clinic
from prolotrack.ops.backup import MANIFEST
from tests.ops.archive_helpers import (
    digests,
    empty_database,
    read_manifest,
    rewrite_archive,
    row_counts,
)


def restore(path) -> str:
    out = StringIO()
    call_command("restore", str(path), stdout=out)
    return out.getvalue()


def forge(src, dst, label, edit) -> None:
    """Change the rows of one table and make every checksum agree, as a forger would: only the
    checks on the restored database itself can then notice."""
    name = f"{label}.ndjson.gz"
    manifest = read_manifest(src)
    entry = next(t for t in manifest["tables"] if t["model"] == label)
    lines = gzip.decompress(_member(src, name)).splitlines(keepends=True)
    rows = [json.loads(line) for line in lines]
    edit(entry["columns"], rows)
    text = b"".join(
        json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        for row in rows
    )
    data = gzip.compress(text, mtime=0)
    entry.update(
        sha256=hashlib.sha256(data).hexdigest(),
        content_sha256=hashlib.sha256(text).hexdigest(),
        rows=len(rows),
    )

    def change(member: str, old: bytes) -> bytes:
        if member == name:
            return data
        if member == MANIFEST:
            return json.dumps(manifest).encode()
        return old

    rewrite_archive(src, dst, change)


def _member(path, name) -> bytes:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read()


def test_it_refuses_a_database_that_holds_rows_and_changes_nothing(archive):
    before = digests()
    with pytest.raises(CommandError, match=r"the database is not empty \(accounts\.clinic"):
        restore(archive)
    assert digests() == before


def test_it_refuses_a_database_with_a_single_row_and_leaves_it_alone(archive):
    empty_database()
    Clinic.objects.create(name="Already here")
    with pytest.raises(CommandError, match="not empty"):
        restore(archive)
    counts = row_counts()
    assert counts.pop("accounts.clinic") == 1
    assert not any(counts.values())


def test_it_refuses_an_archive_with_one_byte_changed_and_names_the_file(archive):
    with tarfile.open(archive) as tar:
        member = tar.getmember("patients.patient.ndjson.gz")
    with archive.open("r+b") as f:
        f.seek(member.offset_data + member.size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x01]))
    empty_database()
    with pytest.raises(CommandError, match=r"patients\.patient\.ndjson\.gz does not match"):
        restore(archive)
    assert not any(row_counts().values())


def test_it_refuses_an_archive_missing_a_table_file(archive, tmp_path):
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as old, tarfile.open(damaged, "w") as new:
        for member in old.getmembers():
            if member.name != "treatment.injection.ndjson.gz":
                new.addfile(member, old.extractfile(member))
    empty_database()
    with pytest.raises(CommandError, match=r"treatment\.injection\.ndjson\.gz is missing"):
        restore(damaged)
    assert not any(row_counts().values())


def test_it_rolls_back_every_table_when_a_row_breaks_a_foreign_key(archive, tmp_path):
    def orphan(columns, rows):
        rows[0][columns.index("practitioner_id")] = 987654321

    forged = tmp_path / "forged.tar"
    forge(archive, forged, "treatment.session", orphan)
    empty_database()
    with pytest.raises(CommandError, match="Not restored"):
        restore(forged)
    assert not any(row_counts().values())


def test_it_rolls_back_when_a_table_does_not_read_back_as_backed_up(archive, tmp_path):
    # A time written with another UTC offset: the database keeps the instant, not the text, so
    # the table reads back differently from the archive's lines.
    def other_offset(columns, rows):
        rows[0][columns.index("performed_at")] = "2026-01-01T10:00:00.123456+05:00"

    forged = tmp_path / "forged.tar"
    forge(archive, forged, "treatment.session", other_offset)
    empty_database()
    with pytest.raises(CommandError, match=r"treatment\.session does not read back"):
        restore(forged)
    assert not any(row_counts().values())


def test_it_rolls_back_when_the_audit_chain_does_not_verify(archive, tmp_path):
    if not apps.is_installed("prolotrack.audit"):
        pytest.skip("the audit app is not installed")

    def rewrite_history(columns, rows):
        rows[0][columns.index("username")] = "someone-else"

    forged = tmp_path / "forged.tar"
    forge(archive, forged, "audit.auditevent", rewrite_history)
    empty_database()
    with pytest.raises(CommandError, match="audit hash chain does not verify"):
        restore(forged)
    assert not any(row_counts().values())


def test_it_refuses_a_backup_of_other_migrations_and_says_what_to_run(archive, tmp_path):
    def change(member: str, data: bytes) -> bytes:
        if member != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["migrations"].append(["patients", "9999_from_the_future"])
        return json.dumps(manifest).encode()

    other = tmp_path / "other.tar"
    rewrite_archive(archive, other, change)
    empty_database()
    with pytest.raises(CommandError) as refused:
        restore(other)
    message = str(refused.value)
    assert "patients.9999_from_the_future" in message
    assert "prolotrack migrate patients 9999_from_the_future" in message
    assert not any(row_counts().values())


def test_it_refuses_a_file_that_is_not_a_backup(db, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an archive\n" * 100)
    with pytest.raises(CommandError, match="not a prolotrack backup"):
        restore(text)
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(text, arcname="notes.txt")
    with pytest.raises(CommandError, match=r"not a prolotrack backup \(no readable manifest"):
        restore(other)


def test_it_refuses_a_file_that_does_not_exist(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        restore(tmp_path / "nowhere.tar")


def test_it_needs_a_file_to_read(db):
    with pytest.raises(CommandError, match="the following arguments are required: file"):
        call_command("restore")
