"""``backup_restore()``: put an archive of ``backup_create()`` back into an empty database.

Everything is checked that can be checked before a row is written: every file's checksum, the
format, that the database has the same migrations applied and the same tables and columns, and
that it holds no rows. Then, in one transaction: rows go in table by table in dependency order
with their primary keys; foreign keys are checked; PostgreSQL's sequences are moved past the
restored keys; every table's row count and content checksum are compared with the manifest; the
audit hash chain is verified when the audit app provides a verifier. Any failure rolls back
everything, so the database is either the backup or still empty.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.apps.registry import Apps
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from prolotrack.ops import rls
from prolotrack.ops.backup import BLOCK, FORMAT, FORMAT_VERSION, MANIFEST
from prolotrack.ops.tables import (
    Migration,
    Table,
    backup_tables,
    content_digest,
    decoder,
    natural_ids,
    natural_keys,
    schema_models,
)

# Rows per INSERT round trip.
BATCH_ROWS = 1000


class RestoreError(Exception):
    """Nothing was restored; the message says why."""


@dataclass(frozen=True)
class TableRestored:
    """Progress: one table's rows are in (not yet committed)."""

    label: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    tables: int
    rows: int
    seconds: float
    # What became of the audit hash chain: verified, or why it was not.
    audit_chain: str


def backup_restore(
    path: Path,
    *,
    using: str = "default",
    progress: Callable[[TableRestored], None] | None = None,
) -> RestoreReport:
    started = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise RestoreError(f"{path} does not exist or is not a file")
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed by the with below)
    except tarfile.TarError:
        raise RestoreError(f"{path} is not a prolotrack backup (not a tar archive)") from None
    with tar:
        manifest = _manifest(tar)
        for entry in manifest["tables"]:
            _verify_file(tar, entry)
        connection = connections[using]
        if not rls.role_bypasses(connection):
            raise RestoreError(
                "this database role may write only one clinic's rows (row-level security); "
                "run the restore as the tables' owner"
            )
        migrations = _check_migrations(connection, manifest)
        registry = schema_models(connection, migrations)
        tables = _tables_matching(manifest, registry)
        verify_audit, chain_note = _audit_check(connection)
        with transaction.atomic(using=using):
            _check_empty(tables, using=using)
            ids = natural_ids(registry, using=using)
            rows = 0
            for table, entry in tables:
                table_started = time.perf_counter()
                count = _insert(tar, table, entry, connection, ids)
                rows += count
                if progress:
                    progress(TableRestored(table.label, count, time.perf_counter() - table_started))
            connection.check_constraints(table_names=[t.db_table for t, _ in tables])
            _reset_sequences(connection, [t for t, _ in tables])
            _verify_content(tables, registry, using=using)
            if verify_audit is not None:
                _verify_audit_chain(verify_audit)
    return RestoreReport(
        tables=len(tables),
        rows=rows,
        seconds=time.perf_counter() - started,
        audit_chain=chain_note,
    )


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        data = _member(tar, MANIFEST).read()
        manifest = json.loads(data)
    except (KeyError, ValueError):
        raise RestoreError(
            f"{tar.name} is not a prolotrack backup (no readable {MANIFEST})"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreError(f"{tar.name} is not a prolotrack backup ({MANIFEST} of another kind)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RestoreError(
            f"the backup has format version {manifest.get('format_version')!r}; this prolotrack "
            f"reads version {FORMAT_VERSION}"
        )
    return manifest


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    stream = tar.extractfile(name)
    if stream is None:
        raise KeyError(name)
    return stream


def _tables_matching(
    manifest: dict[str, Any], registry: Apps
) -> list[tuple[Table, dict[str, Any]]]:
    """The database's tables, in dependency order, each with its manifest entry."""
    tables = backup_tables(registry)
    entries = {entry["model"]: entry for entry in manifest["tables"]}
    ours = {t.label for t in tables}
    missing, extra = sorted(ours - entries.keys()), sorted(entries.keys() - ours)
    if missing or extra:
        raise RestoreError(
            "the backup's tables differ from this installation's: "
            + "; ".join(
                part
                for part in (
                    f"not in the backup: {', '.join(missing)}" if missing else "",
                    f"unknown here: {', '.join(extra)}" if extra else "",
                )
                if part
            )
        )
    for table in tables:
        if entries[table.label]["columns"] != table.columns:
            raise RestoreError(
                f"the columns of {table.label} differ: the backup has "
                f"{', '.join(entries[table.label]['columns'])}; this database has "
                f"{', '.join(table.columns)}"
            )
    return [(t, entries[t.label]) for t in tables]


def _verify_file(tar: tarfile.TarFile, entry: dict[str, Any]) -> None:
    name = entry["file"]
    try:
        stream = _member(tar, name)
    except KeyError:
        raise RestoreError(f"{name} is missing from the backup") from None
    digest = hashlib.sha256()
    while block := stream.read(BLOCK):
        digest.update(block)
    if digest.hexdigest() != entry["sha256"]:
        raise RestoreError(
            f"{name} does not match its checksum in {MANIFEST}: the backup is damaged or was "
            "altered"
        )


def _check_migrations(connection: BaseDatabaseWrapper, manifest: dict[str, Any]) -> list[Migration]:
    """Rows fit only the schema they were read from: the same migrations must be applied."""
    here = set(MigrationRecorder(connection).applied_migrations())
    there = {(app, name) for app, name in manifest["migrations"]}
    if here == there:
        return sorted(there)
    if not here:
        raise RestoreError("this database has no tables yet; run `prolotrack migrate` first")
    missing = ", ".join(f"{a}.{n}" for a, n in sorted(there - here)) or "none"
    extra = ", ".join(f"{a}.{n}" for a, n in sorted(here - there)) or "none"
    latest = dict.fromkeys(sorted({app for app, _ in here} - {app for app, _ in there}), "zero")
    for app, name in sorted(there):
        latest[app] = name
    commands = "; ".join(f"prolotrack migrate {app} {name}" for app, name in latest.items())
    raise RestoreError(
        "this database's migrations differ from the backup's (applied here but not in the "
        f"backup: {extra}; in the backup but not applied here: {missing}). Bring a new, empty "
        f"database to the backup's state ({commands}), restore, then run `prolotrack migrate`"
    )


def _check_empty(tables: list[tuple[Table, dict[str, Any]]], *, using: str) -> None:
    full = [t.label for t, _ in tables if t.model._base_manager.using(using).exists()]
    if full:
        raise RestoreError(
            f"the database is not empty ({', '.join(full)} hold rows): restore writes only into "
            "a freshly migrated database with no prolotrack data"
        )


def _insert(
    tar: tarfile.TarFile,
    table: Table,
    entry: dict[str, Any],
    connection: BaseDatabaseWrapper,
    ids: dict[str, dict[tuple[Any, ...], Any]],
) -> int:
    # Plain INSERTs, not Model.save() or bulk_create(): those would stamp auto_now fields with
    # the time of the restore and send signals; a restore writes the rows exactly as they were.
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in table.columns)
    marks = ", ".join(["%s"] * len(table.columns))
    sql = f"INSERT INTO {quote(table.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the models)
    decoders = [decoder(f, table, connection, ids) for f in table.fields]
    count = 0
    with connection.cursor() as cursor:
        batch: list[list[Any]] = []
        for values in _rows(tar, entry):
            try:
                batch.append([d(v) for d, v in zip(decoders, values, strict=True)])
            except ValidationError as exc:
                row = count + len(batch) + 1
                problem = "; ".join(exc.messages)
                raise RestoreError(f"{entry['file']}, row {row}: {problem}") from None
            except (LookupError, ValueError, TypeError) as exc:
                row = count + len(batch) + 1
                raise RestoreError(f"{entry['file']}, row {row}: {exc}") from None
            if len(batch) == BATCH_ROWS:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    if count != entry["rows"]:
        raise RestoreError(f"{entry['file']} holds {count} rows; the manifest says {entry['rows']}")
    return count


def _rows(tar: tarfile.TarFile, entry: dict[str, Any]) -> Iterator[list[Any]]:
    with gzip.GzipFile(fileobj=_member(tar, entry["file"]), mode="rb") as lines:
        for text in lines:
            yield json.loads(text)


def _reset_sequences(connection: BaseDatabaseWrapper, tables: list[Table]) -> None:
    """New rows must get keys after the restored ones (`prolotrack sqlsequencereset`).
    SQLite moves its AUTOINCREMENT counter past an inserted key by itself."""
    statements = connection.ops.sequence_reset_sql(no_style(), [t.model for t in tables])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _verify_content(
    tables: list[tuple[Table, dict[str, Any]]], registry: Apps, *, using: str
) -> None:
    """Read every restored table back as the backup read it: same rows, same content."""
    natural = natural_keys(registry, using=using)
    for table, entry in tables:
        count = table.model._base_manager.using(using).count()
        if count != entry["rows"]:
            raise RestoreError(
                f"{table.label} has {count} rows after the restore; the backup has {entry['rows']}"
            )
        _, digest = content_digest(table, using=using, natural=natural)
        if digest != entry["content_sha256"]:
            raise RestoreError(
                f"{table.label} does not read back as it was backed up (its content checksum "
                "differs)"
            )


def audit_verifier() -> Callable[[], Any] | None:
    """``prolotrack.audit.verify.verify_database``, when the audit app is installed and has it.

    Looked up, not imported: a backup and restore must work with and without the audit app.
    """
    if not apps.is_installed("prolotrack.audit"):
        return None
    try:
        module = importlib.import_module("prolotrack.audit.verify")
    except ModuleNotFoundError as exc:
        if exc.name == "prolotrack.audit.verify":
            return None
        raise
    return getattr(module, "verify_database", None)


def _audit_check(connection: BaseDatabaseWrapper) -> tuple[Callable[[], Any] | None, str]:
    """The chain verifier to run after the rows are in, and what to report about it."""
    verify = audit_verifier()
    if verify is None:
        return None, "no audit chain verifier is installed"
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        # The verifier reads with the code's models, which fit only a fully migrated database.
        return None, "not verified: verify it after `prolotrack migrate`"
    return verify, "verified"


def _verify_audit_chain(verify: Callable[[], Any]) -> None:
    """Refuse the restore when the verifier raises or its result is not ``ok``."""
    try:
        result = verify()
    except DatabaseError:
        raise
    except Exception as exc:
        raise RestoreError(f"the audit hash chain does not verify: {exc}") from exc
    if not getattr(result, "ok", False):
        problems = getattr(result, "problems", None) or [result]
        listed = "; ".join(str(p) for p in problems[:5])
        raise RestoreError(f"the audit hash chain does not verify: {listed}")
