"""Benchmark: the outcome numbers at registry scale, against DuckDB as the floor.

    uv run python bench/outcomes.py                         # 10k, 100k and 1M readings
    uv run python bench/outcomes.py --readings 100000 --json
    uv run python bench/outcomes.py --pg-url postgres://user@host:5432/bench_db

For each size, a synthetic registry of about N algometer readings (``core.synth``'s registry
stream, with its proportional patients, sessions, adverse events and diary entries) is loaded in
bulk into a fresh database, with the per-session outcome summary built as the write path builds
it. Loading is not timed. Then a fresh process (so memory is the computation's, after start-up)
times ``outcomes_compute`` for the whole registry, the same function the CLI and the dashboard
call, the dashboard page itself, and the page's breakdown table (its own request, which the
page's script sends once the page is shown).

DuckDB is the floor: the same base rows (sessions with their local dates, readings, diary,
adverse events) copied into DuckDB tables, and DuckDB computing the same numbers from them: the
per-session summary from the raw readings and diary (window functions and a range join), then
the very statements ``outcomes_compute`` runs. Its numbers are checked against ours on each run.

One JSON line per size and engine: readings, engine, seconds (median of 3 runs), duckdb_seconds,
ratio, peak_rss_mb (the timing process's peak resident memory), plus dashboard_seconds,
breakdown_seconds and the row counts beside them. PostgreSQL runs when DATABASE_URL or --pg-url
names a database; it is emptied (its tables dropped) before each size: give it a database of its
own.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

SIZES = (10_000, 100_000, 1_000_000)
SEED = 2026
TODAY = dt.date(2026, 11, 20)
CLINIC = "Registry benchmark"
RUNS = 3


# ----------------------------------------------------------------------------------------------
# The parent: one child per (size, engine) step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readings", type=int, help="One size (default: 10k, 100k and 1M).")
    parser.add_argument("--json", action="store_true", help="Only the JSON lines on stdout.")
    parser.add_argument("--pg-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--child", choices=("load", "time"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    sizes = (args.readings,) if args.readings else SIZES
    engines = [e for e in args.engines.split(",") if e]
    if "postgresql" in engines and not args.pg_url:
        engines.remove("postgresql")
        if not args.json:
            print("PostgreSQL skipped: no DATABASE_URL or --pg-url.", file=sys.stderr)
    for readings in sizes:
        for engine in engines:
            with tempfile.TemporaryDirectory(prefix="pt-bench-") as data_dir:
                env = _env(engine, data_dir, args.pg_url)
                base = [sys.executable, __file__, "--readings", str(readings)]
                base += ["--engine", engine, "--data-dir", data_dir]
                if not args.json:
                    print(f"loading {readings} readings into {engine}...", file=sys.stderr)
                subprocess.run([*base, "--child", "load"], env=env, check=True)
                done = subprocess.run(
                    [*base, "--child", "time"], env=env, capture_output=True, text=True
                )
                if done.returncode:
                    sys.stderr.write(done.stderr)
                    raise SystemExit(done.returncode)
                line = done.stdout.strip().splitlines()[-1]
                print(line, flush=True)


def _env(engine: str, data_dir: str, pg_url: str | None) -> dict[str, str]:
    env = {**os.environ, "PROLOTRACK_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": ""}
    env["DJANGO_SETTINGS_MODULE"] = "prolotrack.settings"
    env.pop("DATABASE_URL", None)
    if engine == "postgresql":
        env["DATABASE_URL"] = pg_url or ""
    return env


# ----------------------------------------------------------------------------------------------
# The children


def _child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from prolotrack.ops.scoping import scopes_disabled_here

    scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)
    if args.child == "load":
        _load(args.readings)
    else:
        print(json.dumps(_time(args.readings, args.engine, Path(args.data_dir))))


def _load(readings: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        # A database of its own (see the module docstring): start from empty tables.
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", interactive=False, verbosity=0)

    from prolotrack.accounts.models import Clinic, Role, User
    from prolotrack.core.synth import PRACTITIONERS, generate_registry
    from prolotrack.demo.loader import patients_load
    from prolotrack.diary.models import DiaryEntry
    from prolotrack.outcomes.summary import session_outcomes_refresh
    from prolotrack.patients.models import Patient

    clinic = Clinic.objects.create(name=CLINIC, time_zone="America/Vancouver")
    users = {
        p.key: User.objects.create(username=p.key, clinic=clinic, role=Role.PHYSICIAN)
        for p in PRACTITIONERS
    }
    stream = generate_registry(seed=SEED, readings_target=readings, today=TODAY)
    while chunk := list(islice(stream, 500)):
        patients_load(clinic=clinic, practitioners=users, patients=chunk)
        ids = dict(
            Patient.objects.filter(
                clinic=clinic, chart_number__in=[p.chart_number for p in chunk]
            ).values_list("chart_number", "pk")
        )
        # The demo loader may write diary entries itself (the diary app's loader); only the
        # patients without any get the generator's diary here.
        have = set(
            DiaryEntry.objects.filter(patient_id__in=ids.values())
            .values_list("patient_id", flat=True)
            .distinct()
        )
        DiaryEntry.objects.bulk_create(
            (
                DiaryEntry(
                    clinic=clinic, patient_id=ids[p.chart_number], entry_date=d.date, pain=d.pain
                )
                for p in chunk
                if ids[p.chart_number] not in have
                for d in p.diary
            ),
            batch_size=2000,
        )
    session_outcomes_refresh(clinic_id=clinic.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _time(readings: int, engine: str, data_dir: Path) -> dict[str, Any]:
    from django.conf import settings
    from django.test import Client

    from prolotrack.accounts.models import Clinic, Role, User
    from prolotrack.outcomes.queries import outcomes_compute
    from prolotrack.treatment.models import AlgometerReading, Session

    clinic = Clinic.objects.get(name=CLINIC)
    outcomes_compute(clinic)  # warm the connection and the page cache
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = outcomes_compute(clinic)
        seconds.append(time.perf_counter() - started)

    # The dashboard page, as a signed-in clinician opens it.
    settings.ALLOWED_HOSTS = ["*"]
    viewer, _ = User.objects.get_or_create(
        username="bench-viewer", defaults={"clinic": clinic, "role": Role.PHYSICIAN}
    )
    client = Client()
    client.force_login(viewer)
    _second_factor(client, viewer)
    page = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get("/outcomes/")
        page.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    # The breakdown table, which the page's script asks for once the page is shown.
    breakdown = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get("/outcomes/breakdown/", headers={"X-Requested-With": "fetch"})
        breakdown.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    duck_seconds, duck_report = _duckdb(clinic.pk, data_dir)
    same = _same(report, duck_report)
    median = statistics.median(seconds)
    return {
        "readings": AlgometerReading.objects.count(),
        "engine": engine,
        "seconds": round(median, 4),
        "duckdb_seconds": round(duck_seconds, 4),
        "ratio": round(median / duck_seconds, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "dashboard_seconds": round(statistics.median(page), 4),
        "breakdown_seconds": round(statistics.median(breakdown), 4),
        "target_readings": readings,
        "sessions": Session.objects.count(),
        "patients": report["patients"],
        "duckdb_same_numbers": same,
    }


def _second_factor(client: Any, user: Any) -> None:
    """Mark the session verified, as signing in with the second factor does (staff need it)."""
    try:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice
    except ImportError:
        return
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6
    return bool(a == b)


# ----------------------------------------------------------------------------------------------
# DuckDB: the same numbers from the base rows


_DUCK_TABLES = {
    "sessions": "session_id BIGINT, clinic_id BIGINT, patient_id BIGINT, day DATE, "
    "modality VARCHAR, region VARCHAR, practitioner_id BIGINT, pain_before INTEGER",
    "readings": "session_id BIGINT, site VARCHAR, side VARCHAR, phase VARCHAR, value_kpa DOUBLE",
    "diary": "patient_id BIGINT, entry_date DATE, pain INTEGER",
    "treatment_adverseevent": "clinic_id BIGINT, session_id BIGINT, serious BOOLEAN",
}

# The per-session summary from the raw rows: readings paired by (site, side), the relief window
# of each session up to the patient's next session (LEAD), and its first diary entry with the
# pain back (a range join).
_DUCK_SUMMARY = """
CREATE OR REPLACE TABLE outcomes_sessionoutcome AS
WITH pairs AS (
    SELECT session_id,
           MAX(CASE WHEN phase = 'baseline' THEN value_kpa END) AS base,
           MAX(CASE WHEN phase = '1min' THEN value_kpa END) AS one,
           MAX(CASE WHEN phase = '15min' THEN value_kpa END) AS fifteen
    FROM readings GROUP BY session_id, site, side
),
imm AS (
    SELECT session_id,
           SUM(one - base) / COUNT(one) / 98.0665 AS change_1min,
           SUM(fifteen - base) / COUNT(fifteen) / 98.0665 AS change_15min
    FROM pairs WHERE base IS NOT NULL GROUP BY session_id
),
nxt AS (
    SELECT session_id, patient_id, day, pain_before,
           LEAD(day) OVER (PARTITION BY patient_id ORDER BY day, session_id) AS next_day
    FROM sessions
),
win AS (
    SELECT n.session_id,
           MIN(CASE WHEN d.pain >= n.pain_before THEN d.entry_date END) AS back_on,
           MAX(d.entry_date) AS last_on
    FROM nxt n
    JOIN diary d
      ON d.patient_id = n.patient_id AND d.entry_date > n.day
     AND (n.next_day IS NULL OR d.entry_date < n.next_day)
    WHERE n.pain_before IS NOT NULL
    GROUP BY n.session_id
)
SELECT s.session_id, s.clinic_id, s.patient_id, s.day, '' AS period, s.modality, s.region,
       '' AS condition, s.practitioner_id, s.pain_before,
       imm.change_1min, imm.change_15min,
       CASE WHEN win.back_on IS NOT NULL THEN win.back_on - s.day
            WHEN win.last_on IS NOT NULL THEN win.last_on - s.day END AS relief_days,
       CASE WHEN win.last_on IS NULL THEN NULL ELSE win.back_on IS NOT NULL END AS relief_event
FROM sessions s
LEFT JOIN imm ON imm.session_id = s.session_id
LEFT JOIN win ON win.session_id = s.session_id
"""


def _duckdb(clinic_id: int, data_dir: Path) -> tuple[float, dict[str, Any]]:
    import zoneinfo

    import duckdb
    from django.db import connection

    from prolotrack.accounts.models import Clinic
    from prolotrack.core.outcomes import outcomes_report
    from prolotrack.outcomes.queries import Filters, outcomes_aggregates

    zone = zoneinfo.ZoneInfo(Clinic.objects.get(pk=clinic_id).time_zone)
    files = {name: data_dir / f"{name}.csv" for name in _DUCK_TABLES}
    queries = {
        "sessions": (
            "SELECT s.id, s.clinic_id, t.patient_id, s.performed_at, t.modality, t.region, "
            "s.practitioner_id, s.pain_before FROM treatment_session s "
            "JOIN treatment_treatmentseries t ON t.id = s.series_id WHERE s.clinic_id = %s"
        ),
        "readings": (
            "SELECT session_id, site, side, phase, value_kpa FROM treatment_algometerreading "
            "WHERE clinic_id = %s"
        ),
        "diary": "SELECT patient_id, entry_date, pain FROM diary_diaryentry WHERE clinic_id = %s",
        "treatment_adverseevent": (
            "SELECT clinic_id, session_id, serious FROM treatment_adverseevent WHERE clinic_id = %s"
        ),
    }
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, [clinic_id])
            with files[name].open("w", newline="") as handle:
                writer = csv.writer(handle)
                while rows := cursor.fetchmany(20_000):
                    for row in rows:
                        if name == "sessions":
                            at = row[3]
                            if isinstance(at, str):
                                at = dt.datetime.fromisoformat(at)
                            if at.tzinfo is None:
                                at = at.replace(tzinfo=dt.UTC)
                            row = (*row[:3], at.astimezone(zone).date(), *row[4:])
                        writer.writerow(["" if v is None else v for v in row])
    duck = duckdb.connect()
    for name, columns in _DUCK_TABLES.items():
        duck.execute(f"CREATE TABLE {name} ({columns})")
        duck.execute(f"COPY {name} FROM '{files[name]}' (HEADER false, NULLSTR '')")

    def run(sql: str, params: Any) -> list[tuple[Any, ...]]:
        return duck.execute(sql.replace("%s", "?"), list(params)).fetchall()

    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        duck.execute(_DUCK_SUMMARY)
        groups = outcomes_aggregates(Filters(clinic_id=clinic_id), execute=run)
        report = outcomes_report(groups[0])
        times.append(time.perf_counter() - started)
    return statistics.median(times), report


if __name__ == "__main__":
    main()
