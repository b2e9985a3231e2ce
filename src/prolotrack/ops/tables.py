"""What a backup holds: which tables, in which order, and how one row becomes one line.

The tables are found, not listed: every model of every ``prolotrack.*`` app (with its
many-to-many tables), so an app added later is in the next backup without a change here, plus
the groups that users belong to. The models are the ones of the database's own migration state,
not of the code: a database not yet migrated to new code can still be backed up (the usual
moment to do it), and an old backup restored into a database migrated to the backup's state.

Content types and permissions are not copied: ``migrate`` makes them in every database, under
ids that may differ, so rows point at them by their natural keys (``["patients", "patient"]``,
``["view_patient", "patients", "patient"]``) and a restore looks the ids up again.

A row is one line of JSON: a list of the table's column values, in the order the manifest
names them, with dates, times and decimals as strings. The same lines, in primary-key order,
give a table's content checksum, so a restored table can be compared with the one backed up.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps as code_apps
from django.apps.registry import Apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.utils.duration import duration_iso_string

# Models of other apps that users' rows need: groups, and the permissions of groups; and the
# staff's second-factor devices, without which a restored installation would lock every staff
# user out. axes' lockout records are not kept: they last 15 minutes.
DJANGO_MODELS = ("auth.group", "auth.group_permissions", "otp_totp.totpdevice")
CONTENT_TYPE = "contenttypes.contenttype"
PERMISSION = "auth.permission"
# Tables every migrated database fills itself; rows refer to them by natural key.
NATURAL_KEY_MODELS = (CONTENT_TYPE, PERMISSION)
# Rows read from the database per round trip while streaming a table.
CHUNK_ROWS = 2000

Migration = tuple[str, str]
NaturalKeys = Mapping[str, Mapping[Any, list[Any]]]


class TableError(Exception):
    """The database's tables cannot be backed up or restored as they are."""


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    fields: tuple[models.Field[Any, Any], ...]
    # Column name -> label of the model its values refer to by natural key.
    natural: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    @property
    def file_name(self) -> str:
        return f"{self.label}.ndjson.gz"


def schema_models(connection: BaseDatabaseWrapper, applied: Iterable[Migration]) -> Apps:
    """The models as they are after the migrations ``applied``: the tables' actual shape."""
    loader = MigrationLoader(connection)
    replaced = {key for squash in loader.replacements.values() for key in squash.replaces}
    applied = set(applied)
    unknown = sorted(applied - set(loader.graph.nodes) - replaced)
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown)
        raise TableError(
            f"the database has migrations this prolotrack does not know ({names}); "
            "use the prolotrack version that made them"
        )
    nodes = sorted(applied & set(loader.graph.nodes))
    return loader.project_state(nodes, at_end=True).apps


def backup_tables(registry: Apps) -> list[Table]:
    """Every table a backup holds, parents before the rows that refer to them."""
    chosen = [m for m in _candidate_models(registry) if _is_table(m)]
    labels = {m._meta.label_lower for m in chosen}
    tables = []
    problems = []
    for model in chosen:
        fields = tuple(model._meta.local_concrete_fields)
        natural = {}
        for f in fields:
            if f.remote_field is None or f.related_model is None:
                continue
            target = f.related_model._meta.label_lower  # type: ignore[union-attr]
            if target in NATURAL_KEY_MODELS:
                natural[f.column] = target
            elif target not in labels:
                problems.append(f"{model._meta.label_lower}.{f.name} -> {target}")
        tables.append(Table(model=model, fields=fields, natural=natural))
    if problems:
        raise TableError(
            "these references point at tables a backup does not hold: " + ", ".join(problems)
        )
    return _dependency_order(tables)


def _candidate_models(registry: Apps) -> list[type[models.Model]]:
    # The migration state knows apps by label only; the code's registry says which are ours.
    ours = {c.label for c in code_apps.get_app_configs() if c.name.startswith("prolotrack.")}
    return [
        model
        for model in registry.get_models(include_auto_created=True)
        if model._meta.app_label in ours or model._meta.label_lower in DJANGO_MODELS
    ]


def _is_table(model: type[models.Model]) -> bool:
    meta = model._meta
    return meta.managed and not meta.proxy and not meta.swapped


def _dependency_order(tables: list[Table]) -> list[Table]:
    """Parents first. Foreign keys are checked at commit (Django makes them deferrable), so a
    cycle, which no order satisfies, is broken at the table with the fewest missing parents."""
    by_model = {t.model: t for t in tables}
    parents = {
        t.model: {
            f.related_model
            for f in t.fields
            if f.remote_field is not None
            and f.related_model in by_model
            and f.related_model is not t.model
        }
        for t in tables
    }
    ordered: list[Table] = []
    placed: set[Any] = set()
    remaining = sorted(tables, key=lambda t: t.label)
    while remaining:
        ready = [t for t in remaining if parents[t.model] <= placed]
        if not ready:
            ready = [min(remaining, key=lambda t: len(parents[t.model] - placed))]
        for t in ready:
            ordered.append(t)
            placed.add(t.model)
        remaining = [t for t in remaining if t.model not in placed]
    return ordered


def natural_keys(registry: Apps, *, using: str) -> dict[str, dict[Any, list[Any]]]:
    """Per natural-key model, primary key -> natural key (a few hundred rows in all)."""
    content_type = registry.get_model(CONTENT_TYPE)
    permission = registry.get_model(PERMISSION)
    return {
        CONTENT_TYPE: {
            pk: [app_label, model]
            for pk, app_label, model in content_type._base_manager.using(using).values_list(
                "pk", "app_label", "model"
            )
        },
        PERMISSION: {
            pk: [codename, app_label, model]
            for pk, codename, app_label, model in permission._base_manager.using(using).values_list(
                "pk", "codename", "content_type__app_label", "content_type__model"
            )
        },
    }


def natural_ids(registry: Apps, *, using: str) -> dict[str, dict[tuple[Any, ...], Any]]:
    """Per natural-key model, natural key -> primary key in this database."""
    return {
        label: {tuple(key): pk for pk, key in keys.items()}
        for label, keys in natural_keys(registry, using=using).items()
    }


def table_lines(table: Table, *, using: str, natural: NaturalKeys) -> Iterator[bytes]:
    """The table's rows in primary-key order, each as one line of JSON, streamed."""
    attnames = [f.attname for f in table.fields]
    encoders = [_encoder(f, table, natural) for f in table.fields]
    rows = (
        table.model._base_manager.using(using)
        .order_by("pk")
        .values_list(*attnames)
        .iterator(chunk_size=CHUNK_ROWS)
    )
    for row in rows:
        yield line([encode(value) for encode, value in zip(encoders, row, strict=True)])


def line(values: Sequence[Any]) -> bytes:
    # sort_keys: PostgreSQL's jsonb does not keep the key order of a JSON value, SQLite does.
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode() + b"\n"


def content_digest(table: Table, *, using: str, natural: NaturalKeys) -> tuple[int, str]:
    """(rows, SHA-256 of the lines): what the table holds, comparable across databases."""
    digest = hashlib.sha256()
    rows = 0
    for text in table_lines(table, using=using, natural=natural):
        digest.update(text)
        rows += 1
    return rows, digest.hexdigest()


def _encoder(f: models.Field[Any, Any], table: Table, natural: NaturalKeys) -> Callable[[Any], Any]:
    if f.column in table.natural:
        keys = natural[table.natural[f.column]]
        return lambda value: None if value is None else keys[value]
    if isinstance(f, models.JSONField):
        return lambda value: value
    return encode_value


def encode_value(value: Any) -> Any:
    """A database value as JSON; ``Field.to_python`` reads every one of these forms back."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def decoder(
    f: models.Field[Any, Any],
    table: Table,
    connection: BaseDatabaseWrapper,
    ids: Mapping[str, Mapping[tuple[Any, ...], Any]],
) -> Callable[[Any], Any]:
    """The function that turns a line's value back into what the database column takes."""
    if f.column not in table.natural:
        return lambda value: f.get_db_prep_save(f.to_python(value), connection)
    label = table.natural[f.column]
    known = ids[label]

    def from_natural_key(value: Any) -> Any:
        if value is None:
            return None
        try:
            return known[tuple(value)]
        except KeyError:
            raise LookupError(
                f"{table.label}.{f.name} refers to {label} {value!r}, "
                "which this database does not have"
            ) from None

    return from_natural_key
