"""``backup_create()``: a consistent snapshot of the database, taken while the app runs.

Every table is read inside one read-only transaction (REPEATABLE READ on PostgreSQL, a deferred
transaction on SQLite, which sees one snapshot in WAL mode), so the archive never holds a
session without its injections or a row written after the others were read (RELIABILITY.md
T27). Rows are streamed through gzip into a temporary file one table at a time: memory stays the
same whatever the size of the database; disk needs room for the archive and one table.

The archive is a plain tar file::

    accounts.clinic.ndjson.gz       one gzip-compressed JSON line per row, per table
    ...
    manifest.json                   format, versions, time, database, migrations, and per table
                                    the columns, the row count and two SHA-256 sums: of the file
                                    (damage) and of its lines (content, compared after restore)

It is written next to the target under a temporary name and renamed when complete, so a backup
that fails never leaves a file that looks like a backup. It holds health information and
password hashes: it is readable by its owner only, and must be encrypted before it leaves the
machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from prolotrack.ops import rls
from prolotrack.ops.tables import (
    NaturalKeys,
    Table,
    backup_tables,
    natural_keys,
    schema_models,
    table_lines,
)

FORMAT = "prolotrack-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Bytes copied per read when checksumming or spooling.
BLOCK = 1 << 20


class BackupError(Exception):
    """No backup was written; the message says why."""


@dataclass(frozen=True)
class TableDone:
    """Progress: one table is in the archive."""

    label: str
    rows: int


def backup_create(
    path: Path,
    *,
    using: str = "default",
    progress: Callable[[TableDone], None] | None = None,
) -> dict[str, Any]:
    """Write the archive to ``path`` (which must not exist yet); return its manifest."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a folder")
    if not rls.role_bypasses(connections[using]):
        # Row-level security would hide every clinic's rows: an empty backup that looks whole.
        raise BackupError(
            "this database role sees only one clinic's rows (row-level security); "
            "run the backup as the tables' owner"
        )
    partial = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed or removed below)
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
    )
    try:
        os.chmod(partial.name, 0o600)
        with partial, tarfile.open(fileobj=partial, mode="w", format=tarfile.PAX_FORMAT) as tar:
            manifest = _write_tables(tar, path.parent, using=using, progress=progress)
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            tar.close()
            partial.flush()
            os.fsync(partial.fileno())
        os.replace(partial.name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial.name)
        raise
    _fsync_folder(path.parent)
    return manifest


def _write_tables(
    tar: tarfile.TarFile,
    spool_dir: Path,
    *,
    using: str,
    progress: Callable[[TableDone], None] | None,
) -> dict[str, Any]:
    connection = connections[using]
    with read_snapshot(connection):
        # The snapshot is taken at its first read, just after this.
        created_at = dt.datetime.now(dt.UTC)
        migrations = sorted(MigrationRecorder(connection).applied_migrations())
        registry = schema_models(connection, migrations)
        tables = backup_tables(registry)
        if not tables:
            raise BackupError("the database has no prolotrack tables; run `prolotrack migrate`")
        natural = natural_keys(registry, using=using)
        entries = []
        for table in tables:
            with tempfile.TemporaryFile(dir=spool_dir) as spool:
                entry = _spool_table(table, spool, using=using, natural=natural)
                spool.seek(0)
                info = tarfile.TarInfo(table.file_name)
                info.size = entry["bytes"]
                info.mode = 0o600
                tar.addfile(info, spool)
            entries.append(entry)
            if progress:
                progress(TableDone(label=table.label, rows=entry["rows"]))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "prolotrack_version": prolotrack_version(),
        "created_at": created_at.isoformat(timespec="seconds"),
        "database_vendor": connection.vendor,
        "migrations": [list(m) for m in migrations],
        "tables": entries,
    }


def _spool_table(
    table: Table, spool: IO[bytes], *, using: str, natural: NaturalKeys
) -> dict[str, Any]:
    file_sum = _HashingWriter(spool)
    content_sum = hashlib.sha256()
    rows = 0
    # mtime=0: the same rows make the same bytes, whenever they are written.
    with gzip.GzipFile(filename="", mode="wb", fileobj=file_sum, mtime=0) as out:
        for text in table_lines(table, using=using, natural=natural):
            out.write(text)
            content_sum.update(text)
            rows += 1
    return {
        "model": table.label,
        "db_table": table.db_table,
        "file": table.file_name,
        "columns": table.columns,
        "rows": rows,
        "bytes": file_sum.size,
        "sha256": file_sum.hexdigest(),
        "content_sha256": content_sum.hexdigest(),
    }


@contextlib.contextmanager
def read_snapshot(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """One read-only transaction that sees the database as it was when it began."""
    if connection.in_atomic_block:
        raise BackupError("a backup opens its own transaction; start it outside any other")
    # Django checks a reused connection with a query before its next one; let that happen now,
    # not as the first statement of the transaction below.
    connection.ensure_connection()
    with connection.cursor():
        pass
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        # Not transaction.atomic(): prolotrack opens SQLite transactions IMMEDIATE, which takes
        # the write lock and would stop the clinic's writes for the length of the backup.
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("ROLLBACK")
    else:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {connection.vendor}")


def prolotrack_version() -> str:
    try:
        return version("prolotrack")
    except PackageNotFoundError:
        return "unknown"


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HashingWriter(io.RawIOBase):
    """Passes bytes on to a file, counting and hashing them on the way."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self._sum = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._target.write(view)
        self._sum.update(view)
        self.size += len(view)
        return len(view)

    def hexdigest(self) -> str:
        return self._sum.hexdigest()
