"""Database triggers that keep the audit log append-only (see prolotrack.audit.append_only).

Events may not be updated, deleted or truncated; the checkpoint may not be deleted or truncated,
and an update may only move it to the next event, whose hash it must copy. The SQL differs
between PostgreSQL and SQLite, so it runs from Python, chosen by the connection's vendor.

UPDATE and DELETE triggers fire for each row, as SQLite's do: a statement that touches no row
changes nothing, and Django's `loaddata` tries an UPDATE (of no row) before each INSERT, so a
log restored from a fixture loads. TRUNCATE triggers can only fire per statement.
Errors use SQLSTATE class 23 on PostgreSQL, and SQLite's RAISE(ABORT) is a constraint error:
both reach Django as IntegrityError.
"""

from django.db import migrations

POSTGRESQL_INSTALL = [
    """
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE FUNCTION audit_checkpoint_advance_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id = OLD.id AND NEW.event_id = OLD.event_id + 1 AND NEW.hash IS NOT DISTINCT FROM
                (SELECT hash FROM audit_auditevent WHERE id = NEW.event_id) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit checkpoint only steps to the next event'
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_checkpoint_advance_only BEFORE UPDATE ON audit_auditcheckpoint "
    "FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_advance_only()",
    "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
]

POSTGRESQL_REMOVE = [
    "DROP TRIGGER audit_checkpoint_no_truncate ON audit_auditcheckpoint",
    "DROP TRIGGER audit_checkpoint_no_delete ON audit_auditcheckpoint",
    "DROP TRIGGER audit_checkpoint_advance_only ON audit_auditcheckpoint",
    "DROP TRIGGER audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER audit_event_no_delete ON audit_auditevent",
    "DROP TRIGGER audit_event_no_update ON audit_auditevent",
    "DROP FUNCTION audit_checkpoint_advance_only()",
    "DROP FUNCTION audit_refuse_change()",
]

# SQLite has no TRUNCATE (its truncate optimisation is skipped when a table has a DELETE trigger).
SQLITE_INSTALL = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_checkpoint_advance_only BEFORE UPDATE ON audit_auditcheckpoint
    WHEN NEW.id IS NOT OLD.id OR NEW.event_id IS NOT OLD.event_id + 1
        OR NEW.hash IS NOT (SELECT hash FROM audit_auditevent WHERE id = NEW.event_id)
    BEGIN SELECT RAISE(ABORT, 'audit checkpoint only steps to the next event'); END
    """,
    """
    CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
    """,
]

SQLITE_REMOVE = [
    "DROP TRIGGER audit_checkpoint_no_delete",
    "DROP TRIGGER audit_checkpoint_advance_only",
    "DROP TRIGGER audit_event_no_delete",
    "DROP TRIGGER audit_event_no_update",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(f"no append-only triggers written for {vendor}")
    for statement in statements_by_vendor[vendor]:
        # No parameters: the PL/pgSQL format strings hold % signs that are not placeholders.
        schema_editor.execute(statement, params=None)


def install(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_INSTALL, "sqlite": SQLITE_INSTALL})


def remove(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_REMOVE, "sqlite": SQLITE_REMOVE})


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
