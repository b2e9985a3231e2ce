"""Writers that append at the same moment queue for the head: the chain never forks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, connections

from prolotrack.audit.services import audit_record
from prolotrack.audit.verify import verify_database

WRITERS = 8
EVENTS_EACH = 25


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the SQLite test database is shared in-memory, whose table locks do not wait; "
    "the file database of a real installation queues writers with BEGIN IMMEDIATE",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_unbroken_chain():
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                audit_record(action="read", object_type="patient", object_id=f"{number}-{i}")
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify_database()
    assert result.ok, result.problems
    assert result.checked == WRITERS * EVENTS_EACH


APPENDER = """
import django, sys, time
django.setup()
from prolotrack.ops.scoping import scopes_disabled_here

scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)
from prolotrack.audit.services import audit_record
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all start together
for i in range(int(sys.argv[1])):
    audit_record(action="read", object_type="patient", object_id=str(i))
"""


def test_concurrent_processes_on_a_sqlite_file_form_one_unbroken_chain(tmp_path):
    """The set-up of a one-machine clinic: a SQLite file, writers in separate processes."""
    env = {
        **os.environ,
        "PROLOTRACK_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "DJANGO_SETTINGS_MODULE": "prolotrack.settings",
    }
    prolotrack = [sys.executable, "-m", "prolotrack"]
    subprocess.run([*prolotrack, "migrate", "-v0"], env=env, check=True, timeout=120)
    start_at = str(time.time() + 3)
    writers = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(EVENTS_EACH), start_at], env=env)
        for _ in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0] * 4
    verified = subprocess.run(
        [*prolotrack, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.splitlines()[0] == f"audit trail intact: {4 * EVENTS_EACH} events"
