"""How the audit tables are kept append-only, in three layers.

1. The ORM: `AuditEvent.save()` only inserts, `delete()` and the queryset's `update()`,
   `delete()`, `bulk_update()` and `bulk_create()` raise `AppendOnlyError`.
2. The database (migration 0002): triggers refuse UPDATE, DELETE and TRUNCATE of
   `audit_auditevent`, DELETE and TRUNCATE of `audit_auditcheckpoint`, and any change of the
   checkpoint but a step to the next event. They stop raw SQL and mistakes, but the owner of a
   table can drop or disable its triggers.
3. Privileges (a deployment step on PostgreSQL, not a migration): the application connects as a
   role that does not own the tables (the owner runs the migrations) and may not change the
   log. As the owner, after `prolotrack migrate`::

       REVOKE ALL ON audit_auditevent, audit_auditcheckpoint FROM prolotrack_app;
       GRANT SELECT, INSERT ON audit_auditevent TO prolotrack_app;
       GRANT SELECT, INSERT, UPDATE ON audit_auditcheckpoint TO prolotrack_app;

   `prolotrack_app` stands for the application's role. UPDATE on the checkpoint is needed to
   move the head; the trigger lets it only step forward. `revoke_sql()` returns these
   statements.

Whatever the layers, `prolotrack audit verify` finds a change made around them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

from prolotrack.audit.models import AuditCheckpoint, AuditEvent

TABLES = (AuditEvent._meta.db_table, AuditCheckpoint._meta.db_table)


def revoke_sql(app_role: str) -> list[str]:
    """The statements that leave `app_role` able to append to the log and nothing more."""
    event, checkpoint = TABLES
    role = _quote_role(app_role)
    return [
        f"REVOKE ALL ON {event}, {checkpoint} FROM {role}",
        f"GRANT SELECT, INSERT ON {event} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON {checkpoint} TO {role}",
    ]


def _quote_role(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{name!r} is not a plain role name")
    return f'"{name}"'


@contextmanager
def triggers_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Suspend the append-only triggers inside the caller's transaction (for `flush` only).

    On PostgreSQL this needs the tables' owner: where the application's role has no DELETE or
    TRUNCATE on the log (layer 3), it still cannot empty it. The triggers come back at the end
    of the block; if the block fails, the rollback brings them back.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("triggers_lifted() needs a transaction")
    present = [t for t in TABLES if t in connection.introspection.table_names()]
    if connection.vendor == "postgresql":
        _execute(connection, [f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in present])
        yield
        _execute(connection, [f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in present])
    elif connection.vendor == "sqlite":
        # SQLite cannot disable a trigger: drop it and create it again from its own text.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                list(TABLES),
            )
            triggers = cursor.fetchall()
        _execute(connection, [f'DROP TRIGGER "{name}"' for name, _sql in triggers])
        yield
        _execute(connection, [sql for _name, sql in triggers])
    else:
        yield


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
