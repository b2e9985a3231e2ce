"""Test cases that commit end with `flush`; it must empty the audit tables and keep them guarded."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from prolotrack.audit.models import AuditCheckpoint, AuditEvent
from prolotrack.audit.services import audit_record
from prolotrack.audit.verify import verify_database


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_trail_and_puts_the_triggers_back():
    for _ in range(3):
        audit_record(action="read", object_type="patient")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists() and not AuditCheckpoint.objects.exists()
    audit_record(action="read", object_type="patient")
    assert verify_database().ok
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_an_interactive_flush_that_is_not_confirmed_changes_nothing(audit_log, monkeypatch):
    audit_log.append(2)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    call_command("flush", interactive=True, verbosity=0)
    assert AuditEvent.objects.count() == 2


def test_a_log_dumped_and_loaded_again_still_verifies(audit_log, tmp_path):
    """Django's fixtures as a restore path: loaddata's update-then-insert gets past the triggers."""
    audit_log.append(5, detail={"ids": [1, 2], "page": 2})
    dump = tmp_path / "audit.json"
    call_command("dumpdata", "audit", output=str(dump), verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    call_command("loaddata", str(dump), verbosity=0)
    result = verify_database()
    assert result.ok and result.checked == 5
    audit_record(action="read", object_type="patient")
    assert verify_database().ok
