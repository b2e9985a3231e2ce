"""Tools for the audit tests: tampering as an attacker with database access would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import audit_record

# The triggers of migration audit 0002, dropped by name on SQLite (it cannot disable one).
SQLITE_TRIGGERS = (
    "audit_event_no_update",
    "audit_event_no_delete",
    "audit_checkpoint_advance_only",
    "audit_checkpoint_no_delete",
)


@pytest.fixture
def tamper(db: None) -> Callable[..., None]:
    """Run raw SQL against the audit tables with their triggers out of the way.

    On PostgreSQL the test connection is a superuser, which may disable a table's triggers; on
    SQLite the triggers are dropped. Both happen inside the test's transaction, so the rollback
    at the end of the test puts the triggers back.
    """

    def run(sql: str, params: list[object] | None = None) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in ("audit_auditevent", "audit_auditcheckpoint"):
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                for name in SQLITE_TRIGGERS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(sql, params)

    return run


class AuditLog:
    """The stored log, as the tests look at it."""

    def append(self, count: int, **fields: object) -> list[AuditEvent]:
        """`count` events as a view would write them."""
        fields = {"action": "read", "object_type": "patient", **fields}
        return [audit_record(object_id=i, **fields) for i in range(count)]  # type: ignore[arg-type]

    def mark(self) -> int:
        """The id of the last event so far; `since(mark)` gives the events written after it."""
        last = AuditEvent.objects.order_by("-id").first()
        return last.id if last else 0

    def since(self, mark: int) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))


@pytest.fixture
def audit_log(db: None) -> AuditLog:
    return AuditLog()
