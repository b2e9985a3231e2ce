from __future__ import annotations

import os
import sqlite3
import subprocess
import sys


def run_cli(*args: str, data_dir, extra_env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROLOTRACK_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "prolotrack", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_it_migrates_a_fresh_data_folder_into_a_wal_sqlite_file(tmp_path):
    result = run_cli("migrate", "--no-input", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    db = tmp_path / "prolotrack.sqlite3"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"treatment_session", "treatment_injection", "treatment_algometerreading"} <= tables


def test_it_fails_loudly_on_a_bad_setting(tmp_path):
    result = run_cli("check", data_dir=tmp_path, extra_env={"PROLOTRACK_DEBUG": "yes"})
    assert result.returncode != 0
    assert "PROLOTRACK_DEBUG must be True or False" in result.stderr
