"""Crash consistency (RELIABILITY.md T26), the PostgreSQL server itself: ``pg_ctl stop -m
immediate`` while the app writes, WAL recovery, and no acknowledged write lost. The full size is
``bench/pg_server_crash.py --rounds 30 --control-rounds 5`` (its control rounds, with commits
reported before their log is written, lose writes in most rounds, not all, so they are not run
here); the suite crashes a cluster of its own twice, and checks that the checks can fail."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "pg_server_crash.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bench_pg_server_crash", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="crashes a PostgreSQL server: runs when the suite runs on PostgreSQL (DATABASE_URL)",
)
def test_a_crashed_server_recovers_every_acknowledged_write():
    unavailable = load_script().cluster_unavailable()
    if unavailable:
        pytest.skip(f"no PostgreSQL cluster of the test's own can be made here: {unavailable}")
    # The script makes, crashes and removes a cluster of its own on a free port; it ignores
    # the suite's DATABASE_URL.
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "2"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["crash"] == "pg_ctl stop -m immediate"
    # Each crash was real: mid-write, unclean, and the restart replayed the log.
    for count in ("writing_at_crash", "unclean_shutdown", "recovered", "redo"):
        assert result[f"{count}_rounds"] == 2, count
    assert result["integrity_ok_rounds"] == 2
    assert result["torn_transactions"] == 0
    assert result["acknowledged_but_lost"] == 0
    assert result["audit_events_lost"] == 0
    assert result["audit_verified_rounds"] == 2
    assert result["counts_consistent_rounds"] == 2
    assert result["rounds_with_min_acks"] == 2


# The count and audit checks find what they look for ------------------------------------------


def snapshot(sessions: dict[int, int], events: int, last: int | None = None, checkpoint=None):
    return {
        "sessions": sessions,
        "audit_events": events,
        "audit_last_id": events if last is None else last,
        "audit_checkpoint": events if checkpoint is None else checkpoint,
    }


def test_the_counts_allow_one_write_whose_report_the_crash_cut_off():
    script = load_script()
    before = snapshot({1: 3}, 10)
    acks = [(2, 1, 1, 0), (2, 2, 3, 0), (3, 1, 2, 0)]
    audits = [(11, "a"), (12, "b"), (13, "c")]
    assert script.counts_check(before, snapshot({1: 3, 2: 2, 3: 1}, 13), acks, audits) == {
        "unreported_commits": 0,
        "count_problems": [],
    }
    # One more session, or one more edit, or one more audit event: the write in flight.
    for after in (
        snapshot({1: 3, 2: 2, 3: 1, 4: 1}, 13),
        snapshot({1: 3, 2: 3, 3: 1}, 13),
        snapshot({1: 3, 2: 2, 3: 1}, 14),
    ):
        assert script.counts_check(before, after, acks, audits)["count_problems"] == []


def test_the_counts_find_writes_from_nowhere_and_lost_rows():
    script = load_script()
    before = snapshot({1: 3}, 10)
    acks, audits = [(2, 1, 1, 0)], [(11, "a")]

    def problems(after):
        return script.counts_check(before, after, acks, audits)["count_problems"]

    assert problems(snapshot({1: 3, 2: 1, 4: 1, 5: 1}, 11)) == [
        "2 unreported writes committed; at most one can be"
    ]
    assert problems(snapshot({1: 3, 2: 2}, 12)) == [
        "2 unreported writes committed; at most one can be"
    ]
    assert problems(snapshot({1: 4, 2: 1}, 11)) == ["session 1 of an earlier round changed"]
    assert problems(snapshot({2: 1}, 11)) == ["session 1 of an earlier round is gone"]
    assert problems(snapshot({1: 3}, 11)) == ["session 2 reported, not there"]
    assert script.counts_check(before, snapshot({1: 3, 2: 1}, 11), [(2, 2, 1, 0)], audits)[
        "count_problems"
    ] == ["session 2 at version 1, reported at 2"]
    assert problems(snapshot({1: 3, 2: 1}, 10)) == ["1 audit events fewer than reported"]
    assert problems(snapshot({1: 3, 2: 1}, 11, checkpoint=12)) == [
        "11 audit events, the last numbered 11, the checkpoint at 12"
    ]


@pytest.mark.django_db
def test_the_audit_check_finds_reported_events_that_are_gone_or_different(world):
    script = load_script()
    events = [
        audit_record(user=world.physician, action=Action.CREATE, target=world.series)
        for _ in range(2)
    ]
    reported = [(e.id, e.hash) for e in events]
    assert script.audit_check(reported) == {"audit_lost": [], "audit_verify": "ok"}
    first, second = events
    gone, different = (second.id + 1, second.hash), (first.id, second.hash)
    assert script.audit_check([*reported, gone, different])["audit_lost"] == [
        second.id + 1,
        first.id,
    ]
