"""`prolotrack audit verify`: exit 0 and a count when intact, exit 1 and the problems if not."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_reports_an_intact_trail(audit_log):
    events = audit_log.append(12)
    out, err = run("verify")
    assert out.splitlines()[0] == "audit trail intact: 12 events"
    assert f"head: event 12, hash {events[-1].hash}" in out
    assert err == ""


def test_it_reports_an_empty_trail_as_intact(db):
    out, _err = run("verify")
    assert out.strip() == "audit trail intact: 0 events"


def test_it_lists_every_problem_and_exits_1(audit_log, tamper):
    audit_log.append(10)
    tamper("UPDATE audit_auditevent SET action = 'list' WHERE id = 2")
    tamper("DELETE FROM audit_auditevent WHERE id > 8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("audit", "verify", stdout=out, stderr=err)
    assert refused.value.returncode == 1
    assert "NOT intact: 2 problems in 8 events" in str(refused.value)
    lines = err.getvalue().splitlines()
    assert lines[0] == "event 2: changed after it was written: its contents do not match its hash"
    assert lines[1].startswith("event 10: events 9-10 missing from the end of the log")
    assert "intact: " not in out.getvalue()


def test_it_needs_a_subcommand(db):
    with pytest.raises(CommandError, match=r"SUBCOMMAND|required"):
        call_command("audit")
