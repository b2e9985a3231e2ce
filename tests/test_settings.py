from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from prolotrack import settings as s


@pytest.mark.parametrize(("raw", "expected"), [("True", True), ("false", False), ("", True)])
def test_it_parses_booleans_strictly(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert s.env_bool("X_FLAG", True) is expected


@pytest.mark.parametrize("raw", ["yes", "1", "on", "Tru"])
def test_it_refuses_anything_but_true_or_false(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be True or False"):
        s.env_bool("X_FLAG", False)


def test_it_checks_integer_ranges(monkeypatch):
    monkeypatch.setenv("X_INT", "7")
    assert s.env_int("X_INT", 1, minimum=5, maximum=9) == 7
    monkeypatch.setenv("X_INT", "70")
    with pytest.raises(ImproperlyConfigured, match="between 5 and 9"):
        s.env_int("X_INT", 1, minimum=5, maximum=9)
    monkeypatch.setenv("X_INT", "seven")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        s.env_int("X_INT", 1, minimum=5, maximum=9)


def test_it_uses_the_data_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PROLOTRACK_DATA_DIR", str(tmp_path / "d"))
    assert s.data_dir() == (tmp_path / "d").resolve()
    assert (tmp_path / "d").is_dir()


def test_it_refuses_a_database_url_of_another_kind(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://u@h/db")
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL or SQLite"):
        s._databases()


def test_it_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setenv("PROLOTRACK_SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured, match="at least 50"):
        s._secret_key()


def test_it_runs_sqlite_in_wal_mode_with_foreign_keys(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
        # The in-memory test database cannot use WAL; the configured pragma is what we check.
    assert "journal_mode=WAL" in connection.settings_dict["OPTIONS"]["init_command"]
