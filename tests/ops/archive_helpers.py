"""Ways to look at a database and at an archive, for the backup and restore tests."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps.registry import Apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from prolotrack.ops.backup import MANIFEST
from prolotrack.ops.tables import Table, backup_tables, content_digest, natural_keys, schema_models


def database_tables() -> tuple[list[Table], Apps]:
    applied = MigrationRecorder(connection).applied_migrations()
    registry = schema_models(connection, applied)
    return backup_tables(registry), registry


def digests() -> dict[str, tuple[int, str]]:
    """Per table: rows and the SHA-256 of its lines, computed as a backup computes them."""
    tables, registry = database_tables()
    natural = natural_keys(registry, using="default")
    return {t.label: content_digest(t, using="default", natural=natural) for t in tables}


def raw_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Per table without references to content types or permissions: its rows as the ORM
    reads them, a comparison that does not go through the backup's own serialisation."""
    tables, _ = database_tables()
    return {
        t.label: list(
            t.model._base_manager.order_by("pk").values_list(*[f.attname for f in t.fields])
        )
        for t in tables
        if not t.natural
    }


def row_counts() -> dict[str, int]:
    tables, _ = database_tables()
    return {t.label: t.model._base_manager.count() for t in tables}


def read_manifest(path: Path) -> dict[str, Any]:
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile(MANIFEST))


def read_rows(path: Path, label: str) -> list[list[Any]]:
    with tarfile.open(path) as tar:
        data = tar.extractfile(f"{label}.ndjson.gz").read()
    return [json.loads(line) for line in gzip.decompress(data).splitlines()]


def rewrite_archive(src: Path, dst: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Copy an archive, passing every member's bytes through ``change(name, data)``."""
    with tarfile.open(src) as old, tarfile.open(dst, "w") as new:
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def empty_database() -> None:
    call_command("flush", interactive=False, verbosity=0)
    assert not any(row_counts().values())
