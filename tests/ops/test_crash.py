"""Crash consistency (RELIABILITY.md T26): the writer killed with SIGKILL at random moments
loses no acknowledged write and leaves no torn transaction. The full 100 rounds are
``bench/crash.py --rounds 100``; the suite runs a few, and checks that the checks can fail."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from prolotrack.core.charting import InjectionInput
from prolotrack.treatment import services
from prolotrack.treatment.models import Injection

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "crash.py"
ROUNDS = 5


def load_script():
    spec = importlib.util.spec_from_file_location("bench_crash", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(rounds: int, env: dict[str, str], *extra: str) -> dict:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", str(rounds), *extra],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout)


def assert_nothing_lost(result: dict, rounds: int) -> None:
    assert result["rounds"] == rounds
    assert result["integrity_ok_rounds"] == rounds
    assert result["torn_transactions"] == 0
    assert result["acknowledged_but_lost"] == 0
    # Every round was killed after acknowledged writes, so every round checked some.
    assert result["rounds_with_min_acks"] == rounds


def test_kill_9_of_the_writer_on_a_sqlite_file_loses_nothing(tmp_path):
    result = run_script(ROUNDS, {"DATABASE_URL": ""}, "--data-dir", str(tmp_path))
    assert result["database"] == "sqlite" and result["kills"] == ["sigkill"]
    assert_nothing_lost(result, ROUNDS)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL variant")
@pytest.mark.django_db(transaction=True)
def test_killed_writers_and_terminated_backends_on_postgresql_lose_nothing():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    # The test database itself (emptied after the test); its password, if any, from the env.
    result = run_script(4, {"DATABASE_URL": url, "PGPASSWORD": db.get("PASSWORD") or ""})
    assert result["database"] == "postgresql"
    assert result["kills"] == ["sigkill", "terminate_backend"]
    assert_nothing_lost(result, 4)


# The checks themselves find what they look for ------------------------------------------------


def chart(world, injections: int, session=None):
    rows = [
        InjectionInput("n_saphenous_medial_knee", "left", "subcutaneous", 1, 27)
        for _ in range(injections)
    ]
    return services.session_record(
        series=world.series,
        practitioner=world.physician,
        performed_at=load_script().WHEN,
        pain_before=5,
        notes=f"crash inj={injections} read=0",
        injections=rows,
        session=session,
        expected_version=session.version if session else None,
    )


def test_the_check_passes_whole_sessions_and_acknowledged_writes(world):
    crash = load_script()
    first, second = chart(world, 2), chart(world, 3)
    second = chart(world, 1, session=second)
    acks = [(first.pk, 1, 2, 0), (second.pk, 1, 3, 0), (second.pk, 2, 1, 0)]
    result = crash.check(world.series.pk, acks)
    assert (result["torn"], result["lost"], result["sessions"]) == ([], [], 2)
    assert result["integrity"] in ("ok", "n/a")


def test_the_check_finds_a_torn_session(world):
    crash = load_script()
    session = chart(world, 3)
    Injection.objects.filter(pk=session.injections.first().pk).delete()
    assert crash.check(world.series.pk, [])["torn"] == [session.pk]


def test_the_check_finds_acknowledged_writes_that_are_gone(world):
    crash = load_script()
    session = chart(world, 2)
    acks = [
        (session.pk + 1000, 1, 2, 0),  # a session that is not there
        (session.pk, 2, 2, 0),  # an edit acknowledged, the stored version older
        (session.pk, 1, 4, 0),  # the acknowledged version with other rows
    ]
    assert crash.check(world.series.pk, acks)["lost"] == [session.pk + 1000, session.pk, session.pk]
