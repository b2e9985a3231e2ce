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

Exempt, on purpose (``EXEMPT``): the credentials. Signing in must find a user, and an API call
its token, before any clinic is known: the clinic of a request is read from them. These tables
hold names, roles and hashes of secrets, no health information; the access helpers guard them.

Who sets the clinic: ``ops.middleware.ClinicScopeMiddleware``, per request, from the signed-in
user. Who sees across clinics: roles that bypass row security (superusers, and roles created
with BYPASSRLS). The tables' owner, which runs ``migrate``, ``backup``, ``restore``, ``demo``
and imports, is such a role; the application's role is not (see ``app_role_sql``).

``apply()`` runs after every ``migrate`` (a ``post_migrate`` handler in ``ops.apps``) and only
changes what is missing, so it is safe to run again. SQLite has no row security: a one-machine
installation serves one clinic, and nothing here touches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

    A session-level setting (not SET LOCAL): requests run in autocommit, one transaction per
    query, so a transaction-local setting would be gone by the next query.
    """
    value = "" if clinic_id is None else str(int(clinic_id))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])


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
