"""Row-level security on PostgreSQL: the database's own wall between clinics (RELIABILITY.md T7).

The first wall is in the code: every record is loaded through an access helper that checks its
clinic. This is the second: PostgreSQL itself hides every row of another clinic from the
application's database role, so a query that forgets its clinic (a raw query, a new report, a
bug) returns nothing instead of another clinic's patients.

Which tables: every table of a ``prolotrack.*`` model with a ``clinic`` foreign key, found by
introspection, so a table added later is covered by the ``migrate`` that creates it. Each gets
ENABLE and FORCE ROW LEVEL SECURITY (FORCE: the table's owner is held too) and one policy: a row
is visible, and may be written, only if its ``clinic_id`` is the clinic set for the connection
in the ``prolotrack.clinic_id`` setting. No setting, or an empty one, means no rows: the wall
fails closed. Referential-integrity checks bypass row security in PostgreSQL, so foreign keys
and unique constraints work as before.

Exempt, on purpose (``EXEMPT``): the credentials. Signing in must find a user, a patient's
one-time link its row, and an API call its token, before any clinic is known: the clinic of a
request is read from them. These tables hold names, roles and hashes of secrets, no health
information; the access helpers guard them.

Who sets the clinic: ``ops.middleware.ClinicScopeMiddleware``, per request, from the signed-in
user (``RequestScope``), or the API's token check, from the token (``set_clinic``). Who sees
across clinics: roles that bypass row security (superusers, and roles created with
BYPASSRLS). The tables' owner, which runs ``migrate``, ``backup``, ``restore``, ``demo``
and imports, is such a role; the application's role is not (see ``app_role_sql``).

``apply()`` runs after every ``migrate`` (a ``post_migrate`` handler in ``ops.apps``) and only
changes what is missing, so it is safe to run again. SQLite has no row security: a one-machine
installation serves one clinic, and nothing here touches it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps as code_apps
from django.apps.registry import Apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

# The connection setting that names the clinic whose rows are visible. The dot makes it a
# custom setting, which PostgreSQL accepts from any role without configuration.
SETTING = "prolotrack.clinic_id"
POLICY = "prolotrack_clinic_isolation"
CLINIC_MODEL = "accounts.clinic"
# Models with a clinic that stay outside the wall, and why (see the module's docstring).
EXEMPT = {
    "accounts.user": "sign-in finds the user before the clinic is known",
    "api.apitoken": "a bearer token is looked up before its clinic is known",
    "diary.signinlink": "a patient's one-time sign-in link is looked up before anyone is "
    "signed in, and asked for by someone not signed in",
}
# current_setting(..., true) gives NULL for a setting never made and '' after a reset; both
# make the comparison NULL, so the row is neither visible nor writable.
CURRENT_CLINIC = f"NULLIF(current_setting('{SETTING}', true), '')::bigint"


@dataclass(frozen=True)
class TableState:
    table: str
    row_security: bool
    forced: bool
    has_policy: bool

    @property
    def protected(self) -> bool:
        return self.row_security and self.forced and self.has_policy


def clinic_models(registry: Apps | None = None) -> list[type[models.Model]]:
    """Every concrete model of a prolotrack app that has a ``clinic`` foreign key, but the
    exempt ones. ``registry`` is the code's models by default, or a migration state's."""
    registry = registry or code_apps
    ours = {c.label for c in code_apps.get_app_configs() if c.name.startswith("prolotrack.")}
    found = []
    for model in registry.get_models():
        meta = model._meta
        if meta.app_label not in ours or meta.label_lower in EXEMPT:
            continue
        if not meta.managed or meta.proxy or meta.swapped:
            continue
        if clinic_field(model) is not None:
            found.append(model)
    return sorted(found, key=lambda m: m._meta.db_table)


def clinic_field(model: type[models.Model]) -> models.Field[Any, Any] | None:
    try:
        field = model._meta.get_field("clinic")
    except FieldDoesNotExist:
        return None
    related = getattr(field, "related_model", None)
    if not (field.many_to_one or field.one_to_one) or related is None or isinstance(related, str):
        return None
    if related._meta.label_lower != CLINIC_MODEL:
        return None
    return field  # type: ignore[return-value]


def policy_sql(table: str, column: str, quote: Any) -> str:
    # FOR ALL with the same test for reading (USING) and writing (WITH CHECK): a row of another
    # clinic can be neither seen nor inserted, nor moved to another clinic by an UPDATE.
    condition = f"{quote(column)} = {CURRENT_CLINIC}"
    return (
        f"CREATE POLICY {POLICY} ON {quote(table)} FOR ALL "
        f"USING ({condition}) WITH CHECK ({condition})"
    )


def table_states(connection: BaseDatabaseWrapper, tables: Iterable[str]) -> list[TableState]:
    """What the catalog says of each table (tables that do not exist are left out)."""
    states = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, EXISTS ("
                "  SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)"
                " FROM pg_class c WHERE c.oid = to_regclass(%s)",
                [POLICY, connection.ops.quote_name(table)],
            )
            row = cursor.fetchone()
            if row is not None:
                states.append(TableState(table, bool(row[0]), bool(row[1]), bool(row[2])))
    return states


def apply(
    connection: BaseDatabaseWrapper, models_: Sequence[type[models.Model]] | None = None
) -> list[str]:
    """Enable, force and add the policy where missing; the tables changed. PostgreSQL only."""
    if connection.vendor != "postgresql":
        return []
    models_ = clinic_models() if models_ is None else models_
    columns = {m._meta.db_table: clinic_field(m).column for m in models_}  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    changed = []
    for state in table_states(connection, columns):
        statements = []
        if not state.row_security:
            statements.append(f"ALTER TABLE {quote(state.table)} ENABLE ROW LEVEL SECURITY")
        if not state.forced:
            statements.append(f"ALTER TABLE {quote(state.table)} FORCE ROW LEVEL SECURITY")
        if not state.has_policy:
            statements.append(policy_sql(state.table, columns[state.table], quote))
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            changed.append(state.table)
    return changed


def on_post_migrate(sender: Any, *, using: str, apps: Apps | None = None, **kwargs: Any) -> None:
    """After ``migrate`` (and ``flush``): protect the tables of the app just migrated.

    Django sends the signal once per app; each call covers that app's models, as the migration
    state has them, so a table created by this very migrate is covered.
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    label = getattr(sender, "label", None)
    chosen = [m for m in clinic_models(apps) if m._meta.app_label == label]
    if chosen:
        apply(connection, chosen)


def set_clinic(connection: BaseDatabaseWrapper, clinic_id: int | None) -> None:
    """Make ``clinic_id``'s rows the visible ones on this connection; None: no rows at all.

    Inside a request (a ``RequestScope`` is active on this thread), this changes the request's
    clinic, set before its next query: for example when an API token, not a session, says who
    is calling. Outside one, the setting is made at once.
    """
    scope = getattr(_local, "scope", None)
    # By alias: ``django.db.connection`` is a proxy, not the wrapper the scope holds.
    if scope is not None and scope.connection.alias == connection.alias:
        scope.change(clinic_id)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, _value(clinic_id)])


def _value(clinic_id: int | None) -> str:
    return "" if clinic_id is None else str(int(clinic_id))


_local = threading.local()
# The statements that end a savepoint, as Django's PostgreSQL backend writes them.
SAVEPOINT_END = ("ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")


class RequestScope:
    """The clinic of one request, set on the connection just before the request's first query.

    Lazily, so a request that needs no database (the health check, an error page) costs no
    query. A session-level setting, not SET LOCAL: requests run in autocommit, one transaction
    per query, so a transaction-local setting would be gone by the next query. A setting made
    inside a transaction or savepoint that is later rolled back is undone with it; so when a
    query runs at a shallower nesting than the setting was made at, or on a new connection, the
    setting is made again.
    """

    def __init__(self, connection: BaseDatabaseWrapper, clinic_id: int | None) -> None:
        self.connection = connection
        self.clinic_id = clinic_id
        self._level: int | None = None  # transaction nesting when last set; None: not set
        self._raw: Any = None  # the driver connection it was set on

    def change(self, clinic_id: int | None) -> None:
        self.clinic_id = clinic_id
        self._level = None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        db = self.connection
        level = 1 + len(db.savepoint_ids) if db.in_atomic_block else 0
        if sql.startswith(SAVEPOINT_END):
            # Leaving a savepoint (Django has already dropped it from savepoint_ids): a setting
            # made inside it may be undone by this very statement, so it is made again at the
            # next query, not before this one.
            if self._level is not None and level < self._level:
                self._level = None
            return execute(sql, params, many, context)
        if self._level is None or level < self._level or db.connection is not self._raw:
            # The driver's own cursor: a query of ours must not pass through this wrapper again.
            with db.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config(%s, %s, false)", [SETTING, _value(self.clinic_id)]
                )
            self._level, self._raw = level, db.connection
        return execute(sql, params, many, context)

    @contextmanager
    def active(self) -> Iterator[None]:
        previous = getattr(_local, "scope", None)
        _local.scope = self
        try:
            with self.connection.execute_wrapper(self):
                yield
        finally:
            _local.scope = previous

    def clear(self) -> None:
        """After the request: no clinic on the connection, if this scope set one on it."""
        if self._raw is not None and self.connection.connection is self._raw:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', false)", [SETTING])
        self._level = self._raw = None


def app_role_sql(role: str) -> list[str]:
    """The grants for the application's role, to run as the owner after every ``migrate``.

    The role itself is made once by a superuser, without the powers that pass the wall::

        CREATE ROLE prolotrack_app LOGIN PASSWORD '...' NOSUPERUSER NOBYPASSRLS;

    It gets the rows of the tables (behind the policies) and the sequences, not the tables
    themselves: it owns nothing, so it cannot disable row security or triggers. The audit
    trail's grants come last and narrow its rights there to appending.
    """
    from prolotrack.audit.append_only import revoke_sql

    if not role.replace("_", "").isalnum():
        raise ValueError(f"{role!r} is not a plain role name")
    quoted = f'"{role}"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        *revoke_sql(role),
    ]


def role_bypasses(connection: BaseDatabaseWrapper) -> bool:
    """True if the connection's role sees every clinic (superuser or BYPASSRLS); commands
    that span clinics (backup, restore, demo, imports) need such a role."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])
