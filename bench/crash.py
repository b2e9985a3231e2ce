"""Crash consistency (RELIABILITY.md T26): kill -9 the writer, lose nothing it acknowledged.

Each round starts a writer process that charts sessions through
``treatment.services.session_record`` (the function the session form calls), with the app's
own database settings: on SQLite, WAL with synchronous=FULL and BEGIN IMMEDIATE. Each write is
one transaction of several rows: a new session with its injections and readings, or an edit
that replaces a session's rows and bumps its version. The session's notes say how many rows
it must have. After each commit the writer reports the write on a pipe; a report is what the
writer has acknowledged. Once it has acknowledged a few writes, the writer is killed with
SIGKILL at a random moment, and the database is checked:

- ``PRAGMA integrity_check`` answers ``ok`` (SQLite);
- no torn transaction: every session has exactly the rows its notes name;
- no acknowledged write lost: every reported session is there, at the reported version or
  a later one, and at that version with the reported rows.

    uv run python bench/crash.py --rounds 100
    DATABASE_URL=postgres://.../scratch uv run python bench/crash.py --rounds 100

On PostgreSQL the kill alternates between SIGKILL of the writer and ``pg_terminate_backend``
of its server process, mid-transaction: the server must roll the open transaction back and
keep every committed one. A crash of the server itself (``pg_ctl stop -m immediate``) needs a
server of one's own: ``bench/pg_server_crash.py`` makes one and reuses this script's writer and
checks. Without DATABASE_URL it makes a SQLite
database in a new temporary folder (``--data-dir`` picks the folder). Prints one JSON object;
exit status 0 when every round passed.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

SITES = ("n_saphenous_medial_knee", "n_infrapatellar_saphenous")
SIDES = ("left", "right")
PHASES = ("baseline", "1min", "15min")
WHEN = dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC)
NOTES = re.compile(r"^crash inj=(\d+) read=(\d+)$")
APPLICATION_NAME = "prolotrack-crash-writer"
# The writer is killed only after this many acknowledged writes in the round, so every round
# checks acknowledged writes whatever the machine's speed.
MIN_ACKS = 3


def setup_django(data_dir: str | None) -> None:
    # A data folder of its own even on PostgreSQL (secret key, static files), never the one of
    # an installation.
    if data_dir is None:
        data_dir = tempfile.mkdtemp(prefix="prolotrack-crash-")
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["PROLOTRACK_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    from prolotrack.ops.scoping import scopes_disabled_here

    scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)


# The writer ------------------------------------------------------------------------------------


def writer(series_id: int, seed: int, *, audit: bool = False) -> None:
    """Chart sessions until killed; print ``ack <id> <version> <injections> <readings>`` after
    each commit.

    With ``audit``, each write is followed, as on the session form, by its audit event in a
    transaction of its own, reported after its commit as ``audit <event id> <hash>``.
    """
    from django.db import connection

    from prolotrack.audit.models import Action
    from prolotrack.audit.services import audit_record
    from prolotrack.core.charting import InjectionInput, ReadingInput
    from prolotrack.treatment.models import Session, TreatmentSeries
    from prolotrack.treatment.services import session_record

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET application_name = %s", [APPLICATION_NAME])
    rng = random.Random(seed)
    series = TreatmentSeries.objects.get(pk=series_id)
    practitioner = series.clinic.users.get()
    mine: list[int] = []
    print("ready", flush=True)
    while True:
        injections = [
            InjectionInput(rng.choice(SITES), rng.choice(SIDES), "subcutaneous", Decimal("0.5"), 27)
            for _ in range(rng.randint(1, 8))
        ]
        keys = [(s, side, p) for s in SITES for side in SIDES for p in PHASES]
        readings = [
            ReadingInput(site, side, phase, Decimal(rng.randint(10, 60)) / 10, "kg/cm2")
            for site, side, phase in rng.sample(keys, rng.randint(0, len(keys)))
        ]
        session = None
        if mine and rng.random() < 0.4:
            session = Session.objects.get(pk=rng.choice(mine))
        saved = session_record(
            series=series,
            practitioner=practitioner,
            performed_at=WHEN,
            pain_before=rng.randint(0, 10),
            notes=f"crash inj={len(injections)} read={len(readings)}",
            injections=injections,
            readings=readings,
            session=session,
            expected_version=session.version if session else None,
        )
        if session is None:
            mine.append(saved.pk)
        # Only now, after the commit, is the write acknowledged.
        print(f"ack {saved.pk} {saved.version} {len(injections)} {len(readings)}", flush=True)
        if audit:
            event = audit_record(
                user=practitioner,
                action=Action.CHANGE if session else Action.CREATE,
                target=saved,
                object_type="session",
                patient_id=series.patient_id,
            )
            print(f"audit {event.id} {event.hash}", flush=True)


# The crash rounds ------------------------------------------------------------------------------


def prepare() -> int:
    """A migrated database with a clinic, a practitioner and a series to chart in."""
    from django.core.management import call_command

    from prolotrack.accounts.models import Clinic, Role, User
    from prolotrack.patients.models import Patient
    from prolotrack.treatment.models import TreatmentSeries

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    clinic = Clinic.objects.create(name=f"Crash bench {tag}")
    User.objects.create_user(username=f"bench-crash-{tag}", clinic=clinic, role=Role.PHYSICIAN)
    patient = Patient.objects.create(
        clinic=clinic,
        chart_number=f"CR-{tag}",
        given_name="Bench",
        family_name="Crash",
        birth_date=dt.date(1970, 1, 1),
        sex="female",
        weight_kg=Decimal("70"),
    )
    series = TreatmentSeries.objects.create(
        clinic=clinic,
        patient=patient,
        modality="neural",
        region="knee",
        planned_sessions=30,
        planned_interval_days=7,
        started_on=WHEN.date(),
    )
    return series.pk


class WriterProcess:
    """A writer process, its reports read on a thread: the kill comes at a random moment, not
    between two lines."""

    def __init__(self, series_id: int, seed: int, *, audit: bool = False) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--writer", str(series_id)]
        self.proc = subprocess.Popen(
            [*command, "--seed", str(seed), *(["--audit"] if audit else [])],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self.lines.extend, args=(self.proc.stdout,))
        self.reader.daemon = True
        self.reader.start()

    def wait_for_acks(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while sum(line.startswith("ack") for line in list(self.lines)) < count:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the writer stopped or hung: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            time.sleep(0.005)

    def finish(self, timeout: float = 60) -> None:
        """Wait for the dead writer's last reports."""
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=timeout)

    def acks(self) -> list[tuple[int, int, int, int]]:
        """(session id, version, injections, readings) of each acknowledged write."""
        acks = []
        for line in self.lines:
            if line.startswith("ack "):
                pk, version, n_inj, n_read = (int(x) for x in line.split()[1:])
                acks.append((pk, version, n_inj, n_read))
        return acks

    def audits(self) -> list[tuple[int, str]]:
        """(event id, hash) of each acknowledged audit event."""
        return [
            (int(line.split()[1]), line.split()[2])
            for line in self.lines
            if line.startswith("audit ")
        ]


def crash_round(series_id: int, rng: random.Random, max_delay: float, how: str) -> dict[str, Any]:
    writer = WriterProcess(series_id, rng.randrange(2**32))
    writer.wait_for_acks(MIN_ACKS)
    time.sleep(rng.uniform(0, max_delay))
    if how == "terminate_backend":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [APPLICATION_NAME],
            )
        connection.close()
    else:
        writer.proc.send_signal(signal.SIGKILL)
    writer.finish()  # after pg_terminate_backend, the writer dies on its lost connection
    acks = writer.acks()
    result = check(series_id, acks)
    from django.db import connection

    connection.close()  # not held open while the next writer runs
    return {"acks": acks, **result}


def check(series_id: int, acks: list[tuple[int, int, int, int]]) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count

    from prolotrack.treatment.models import Session

    integrity = "n/a"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            integrity = ";".join(row[0] for row in cursor.fetchall())
    sessions = {
        s.pk: s
        for s in Session.objects.filter(series_id=series_id).annotate(
            n_inj=Count("injections", distinct=True), n_read=Count("readings", distinct=True)
        )
    }
    torn = []
    for s in sessions.values():
        match = NOTES.match(s.notes)
        if not match or (s.n_inj, s.n_read) != (int(match[1]), int(match[2])):
            torn.append(s.pk)
    lost = []
    for pk, version, n_inj, n_read in acks:
        s = sessions.get(pk)
        gone = s is None or s.version < version
        changed = s is not None and s.version == version and (s.n_inj, s.n_read) != (n_inj, n_read)
        if gone or changed:
            lost.append(pk)
    return {"integrity": integrity, "torn": torn, "lost": lost, "sessions": len(sessions)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.5,
        help="The kill comes up to this many seconds after the first acknowledged writes.",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--data-dir", help="SQLite: the folder for the database file.")
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--audit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer is not None:
        setup_django(os.environ.get("PROLOTRACK_DATA_DIR"))
        from django_scopes import scopes_disabled

        with scopes_disabled():  # a process of its own, outside any request's clinic scope
            writer(args.writer, args.seed, audit=args.audit)
        return 0
    setup_django(args.data_dir)
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return crash_rounds(args)


def crash_rounds(args: argparse.Namespace) -> int:
    from django.db import connection

    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    series_id = prepare()
    connection.close()
    kills = ["sigkill"]
    if connection.vendor == "postgresql":
        kills.append("terminate_backend")
    began = time.perf_counter()
    rounds = []
    for number in range(args.rounds):
        result = crash_round(series_id, rng, args.max_delay, kills[number % len(kills)])
        rounds.append(result)
        print(
            f"round {number + 1}: {len(result['acks'])} acknowledged, "
            f"integrity {result['integrity']}, torn {len(result['torn'])}, "
            f"lost {len(result['lost'])}",
            file=sys.stderr,
        )
    summary = {
        "test": "T26 crash consistency",
        "database": connection.vendor,
        "kills": kills,
        "rounds": args.rounds,
        "seed": seed,
        "integrity_ok_rounds": sum(r["integrity"] in ("ok", "n/a") for r in rounds),
        "torn_transactions": sum(len(r["torn"]) for r in rounds),
        "acknowledged_writes": sum(len(r["acks"]) for r in rounds),
        "acknowledged_but_lost": sum(len(r["lost"]) for r in rounds),
        "sessions_checked_last_round": rounds[-1]["sessions"] if rounds else 0,
        "rounds_with_min_acks": sum(len(r["acks"]) >= MIN_ACKS for r in rounds),
        "seconds": round(time.perf_counter() - began, 1),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    ok = (
        summary["integrity_ok_rounds"] == args.rounds
        and summary["torn_transactions"] == 0
        and summary["acknowledged_but_lost"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
