"""Nothing changes or removes an audit event: not the ORM, not raw SQL, not the app's role."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from prolotrack.audit.append_only import revoke_sql
from prolotrack.audit.models import AppendOnlyError, AuditCheckpoint, AuditEvent
from prolotrack.audit.services import audit_record
from prolotrack.audit.verify import verify_database

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="roles and TRUNCATE are PostgreSQL's"
)


def raw(sql, params=None):
    # A savepoint, so that on PostgreSQL the refused statement leaves the test's transaction
    # usable.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_refuses_to_save_an_event_again(audit_log):
    event = audit_log.append(1)[0]
    event.username = "someone-else"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).username == ""


def test_it_refuses_an_event_that_bypasses_audit_record(db):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(id=1, at="2026-01-01T00:00Z", action="read")


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: AuditEvent.objects.get(pk=1).delete(),
        lambda: AuditEvent.objects.all().delete(),
        lambda: AuditEvent.objects.filter(pk=1).delete(),
        lambda: AuditEvent.objects.update(username="x"),
        lambda: AuditEvent.objects.filter(pk=1).update(outcome="refused"),
        lambda: AuditEvent.objects.bulk_update(AuditEvent.objects.all(), ["username"]),
        lambda: AuditEvent.objects.bulk_create([AuditEvent(id=99)]),
    ],
    ids=[
        "delete",
        "delete-all",
        "filter-delete",
        "update",
        "filter-update",
        "bulk-update",
        "bulk-create",
    ],
)
def test_the_orm_refuses_every_bulk_change(audit_log, attempt):
    audit_log.append(3)
    with pytest.raises(AppendOnlyError):
        attempt()
    assert AuditEvent.objects.count() == 3
    assert verify_database().ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET username = 'x' WHERE id = 2",
        "UPDATE audit_auditevent SET hash = prev_hash",
        "DELETE FROM audit_auditevent WHERE id = 3",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditcheckpoint SET event_id = 2",
        "UPDATE audit_auditcheckpoint SET event_id = 4",  # no event 4 to step to
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_the_database_refuses_raw_changes(audit_log, sql):
    audit_log.append(3)
    with pytest.raises(IntegrityError, match="audit"):
        raw(sql)
    assert AuditEvent.objects.count() == 3
    assert AuditCheckpoint.objects.get().event_id == 3
    assert verify_database().ok


@postgresql_only
@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditcheckpoint"])
def test_postgresql_refuses_truncate(audit_log, table):
    audit_log.append(3)
    with pytest.raises(IntegrityError, match="append-only"):
        raw(f"TRUNCATE {table} CASCADE")
    assert verify_database().ok


@postgresql_only
def test_the_documented_grants_let_the_app_role_append_and_nothing_more(audit_log):
    """The README's REVOKE/GRANT statements, applied to a throw-away role (T17)."""
    audit_log.append(2)
    role = f"audit_test_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        # Inside the test's transaction: rolled back, role and all, when the test ends.
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        for statement in revoke_sql(role):
            cursor.execute(statement)
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    try:
        audit_record(action="read", object_type="patient", object_id="7")
        for sql in (
            "UPDATE audit_auditevent SET username = 'x' WHERE id = 1",
            "DELETE FROM audit_auditevent WHERE id = 1",
            "TRUNCATE audit_auditevent",
            "DELETE FROM audit_auditcheckpoint",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
        ):
            with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
                raw(sql)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert AuditEvent.objects.count() == 3
    assert verify_database().ok


def test_revoke_sql_refuses_a_role_name_that_is_not_plain():
    with pytest.raises(ValueError):
        revoke_sql('app"; DROP TABLE audit_auditevent; --')
