"""Crash consistency (RELIABILITY.md T26), the server itself: ``pg_ctl stop -m immediate`` of
PostgreSQL while the app writes, WAL recovery, and nothing acknowledged lost.

The script makes a PostgreSQL cluster of its own in a new temporary folder (``initdb`` with data
checksums; ``fsync``, ``synchronous_commit`` and ``full_page_writes`` on, as by default), on a
free loopback port, migrates prolotrack into it and never touches any other server: it ignores
DATABASE_URL. Each round runs ``bench/crash.py``'s writer, which charts sessions through
``session_record`` and appends each session's audit event as the session form does, reporting
each commit on a pipe. Once it has reported a few writes, the server is stopped with
``pg_ctl stop -m immediate`` at a random moment: every server process quits at once, with no
checkpoint, as in a crash. The server is started again, which replays the write-ahead log, and
the database is checked:

- the cluster was not shut down cleanly, and the server log shows the automatic recovery;
- ``pg_amcheck`` (heap, and every B-tree index against its table and its parent pages) finds
  no corruption;
- no torn transaction: every session has exactly the rows its notes name (``crash.check``);
- no acknowledged write lost: every reported session is there at its reported version or
  later, and every reported audit event is there with its reported hash;
- ``prolotrack audit verify``: the audit trail's hash chain is intact up to its checkpoint;
- the row counts add up: beyond what was reported, at most one write committed (the one whose
  report the crash cut off), and the sessions of earlier rounds are as they were.

``--control-rounds`` then crashes the server as many times more with ``synchronous_commit``
off, which reports a commit before its log is written: those crashes lose reported writes, and
the run passes only if the checks find them.

    uv run python bench/pg_server_crash.py --rounds 50 --control-rounds 10

initdb, pg_ctl and pg_amcheck are looked for in ``--pg-bin``, on PATH, in ``pg_config
--bindir`` and in Debian's /usr/lib/postgresql/<version>/bin. initdb refuses to run as root: as
root, the cluster belongs to ``--os-user`` (postgres) and its programs run through ``runuser``.
Prints one JSON object; exit status 0 when every round passed and the control rounds, if any,
found a lost write; 2 when no cluster can be made here.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import io
import json
import os
import pwd
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DB_NAME = "prolotrack"
SUPERUSER = "postgres"
PROGRAMS = ("initdb", "pg_ctl", "pg_controldata", "createdb", "pg_amcheck")
RECOVERY = "automatic recovery in progress"
REDO = "redo done at"


def _load_crash() -> Any:
    spec = importlib.util.spec_from_file_location("bench_crash", HERE / "crash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The writer, its reports and the torn/lost checks are crash.py's.
crash = _load_crash()


# A cluster of our own --------------------------------------------------------------------------


def find_bindir(pg_bin: str | None = None) -> Path | None:
    """The folder that holds initdb, pg_ctl and the rest of the server's programs, or None."""
    candidates: list[Path] = []
    if pg_bin:
        candidates.append(Path(pg_bin))
    for program in ("initdb", "pg_ctl"):
        found = shutil.which(program)
        if found:
            candidates.append(Path(found).parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        run = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if run.returncode == 0 and run.stdout.strip():
            candidates.append(Path(run.stdout.strip()))
    # Debian and Ubuntu keep the server's programs off PATH, one folder per major version.
    debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates += sorted(debian, key=lambda p: int(p.parent.name), reverse=True)
    for folder in candidates:
        if all((folder / p).is_file() for p in PROGRAMS):
            return folder
    return None


def server_user(os_user: str) -> str | None:
    """The account the server runs as: None for the current one, ``os_user`` when we are root
    (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    return os_user


def cluster_unavailable(pg_bin: str | None = None, os_user: str = "postgres") -> str | None:
    """Why no cluster can be made here, or None."""
    if find_bindir(pg_bin) is None:
        return f"{', '.join(PROGRAMS)} not found together (--pg-bin, PATH, pg_config --bindir)"
    user = server_user(os_user)
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"running as root and there is no {user!r} account to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is not available"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A throwaway cluster in a new temporary folder, on a free loopback port, trust auth."""

    def __init__(self, bindir: Path, os_user: str | None) -> None:
        self.bindir = bindir
        self.os_user = os_user
        self.root = Path(tempfile.mkdtemp(prefix="prolotrack-pg-crash-"))
        if os_user is not None:
            shutil.chown(self.root, os_user)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0

    @property
    def url(self) -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{DB_NAME}"

    def _server_program(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        run = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=180, check=False
        )
        if run.returncode != 0:
            raise RuntimeError(f"{program} failed: {run.stdout}{run.stderr}{self.log_tail()}")
        return run

    def _client_program(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(
            [*command, "-U", SUPERUSER, *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return "\nserver log:\n" + self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def create(self) -> None:
        """initdb, start, and an empty database for prolotrack."""
        self._server_program(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--data-checksums",
            "-E",
            "UTF8",
            "--locale=C",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("include 'crash.conf'\n")
        for attempt in range(5):
            self.port = free_port()
            self.configure(async_commit=False)
            try:
                self.start()
                break
            except RuntimeError:
                if attempt == 4:
                    raise  # not a port taken meanwhile, then
        run = self._client_program("createdb", DB_NAME)
        if run.returncode != 0:
            raise RuntimeError(f"createdb failed: {run.stderr}")

    def configure(self, *, async_commit: bool) -> None:
        """Our settings, read at the next start or reload.

        The durability settings are PostgreSQL's defaults, written down: a commit is reported
        once its log is on disk. ``async_commit`` is the control: the commit is reported
        before its log is written (written up to 10 s later), so a crash loses it.
        """
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            "fsync = on",
            "full_page_writes = on",
            f"synchronous_commit = {'off' if async_commit else 'on'}",
            f"wal_writer_delay = {'10s' if async_commit else '200ms'}",
            "max_connections = 20",
            "shared_buffers = 32MB",
        ]
        (self.data / "crash.conf").write_text("\n".join(settings) + "\n")

    def reload(self) -> None:
        self._server_program("pg_ctl", "-D", str(self.data), "reload")

    def start(self) -> float:
        """Start the server (replaying the log after a crash); the seconds it took."""
        began = time.perf_counter()
        self._server_program(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start"
        )
        return time.perf_counter() - began

    def crash(self) -> None:
        """Every server process quits at once: no checkpoint, no clean shutdown."""
        self._server_program("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def state(self) -> str:
        """The cluster state pg_control records ("shut down" after a clean stop)."""
        run = self._server_program("pg_controldata", str(self.data))
        for line in run.stdout.splitlines():
            if line.startswith("Database cluster state:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def amcheck(self) -> str:
        """``ok``, or what pg_amcheck found."""
        run = self._client_program(
            "pg_amcheck", "--install-missing", "--heapallindexed", "--parent-check", DB_NAME
        )
        if run.returncode == 0 and not run.stdout.strip():
            return "ok"
        return (run.stdout + run.stderr).strip() or f"pg_amcheck exit status {run.returncode}"

    def version(self) -> str:
        run = self._server_program("pg_ctl", "--version")
        return run.stdout.strip().removeprefix("pg_ctl (PostgreSQL) ")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._server_program("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except RuntimeError:
                self._server_program("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# The checks beyond crash.py's ------------------------------------------------------------------


def snapshot(series_id: int) -> dict[str, Any]:
    """What the counts are checked on: the series' sessions and their versions, and the audit
    trail's length, last id and checkpoint."""
    from django.db.models import Count, Max

    from prolotrack.audit.models import CHECKPOINT_ID, AuditCheckpoint, AuditEvent
    from prolotrack.treatment.models import Session

    events = AuditEvent.objects.aggregate(n=Count("id"), last=Max("id"))
    checkpoint = AuditCheckpoint.objects.filter(pk=CHECKPOINT_ID).values_list("event_id", flat=True)
    return {
        "sessions": dict(Session.objects.filter(series_id=series_id).values_list("pk", "version")),
        "audit_events": events["n"],
        "audit_last_id": events["last"] or 0,
        "audit_checkpoint": checkpoint.first() or 0,
    }


def counts_check(
    before: dict[str, Any],
    after: dict[str, Any],
    acks: list[tuple[int, int, int, int]],
    audits: list[tuple[int, str]],
) -> dict[str, Any]:
    """The row counts after a round against those before it and what the round reported.

    The writer writes one transaction at a time, so beyond what it reported at most one
    transaction committed: the one whose report the crash cut off. Fewer rows than reported is
    a lost write; more than one unreported write, or a session of an earlier round changed, is
    a write from nowhere.
    """
    problems = []
    reported: dict[int, int] = {}
    for pk, version, _n_inj, _n_read in acks:
        reported[pk] = max(version, reported.get(pk, 0))
    new_sessions = set(after["sessions"]) - set(before["sessions"])
    unreported_sessions = len(new_sessions - set(reported))
    unreported_edits = 0
    for pk, version in after["sessions"].items():
        if pk in before["sessions"]:
            if version != before["sessions"][pk]:
                problems.append(f"session {pk} of an earlier round changed")
        elif pk in reported:
            if version < reported[pk]:
                problems.append(f"session {pk} at version {version}, reported at {reported[pk]}")
            unreported_edits += max(version - reported[pk], 0)
    for pk in set(before["sessions"]) - set(after["sessions"]):
        problems.append(f"session {pk} of an earlier round is gone")
    for pk in sorted(set(reported) - set(after["sessions"])):
        problems.append(f"session {pk} reported, not there")
    unreported_audit = after["audit_events"] - before["audit_events"] - len(audits)
    if unreported_audit < 0:
        problems.append(f"{-unreported_audit} audit events fewer than reported")
    if not after["audit_events"] == after["audit_last_id"] == after["audit_checkpoint"]:
        problems.append(
            f"{after['audit_events']} audit events, the last numbered {after['audit_last_id']}, "
            f"the checkpoint at {after['audit_checkpoint']}"
        )
    unreported = unreported_sessions + unreported_edits + max(unreported_audit, 0)
    if unreported > 1:
        problems.append(f"{unreported} unreported writes committed; at most one can be")
    return {"unreported_commits": unreported, "count_problems": problems}


def audit_check(audits: list[tuple[int, str]]) -> dict[str, Any]:
    """Every reported audit event there with its reported hash, and ``prolotrack audit verify``."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from prolotrack.audit.models import AuditEvent

    stored = dict(
        AuditEvent.objects.filter(id__in=[i for i, _ in audits]).values_list("id", "hash")
    )
    lost = [i for i, digest in audits if stored.get(i) != digest]
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
        verify = "ok"
    except CommandError as exc:
        verify = f"{exc}: {err.getvalue().strip()}"
    return {"audit_lost": lost, "audit_verify": verify}


# The rounds ------------------------------------------------------------------------------------


def server_crash_round(
    cluster: Cluster, series_id: int, rng: random.Random, max_delay: float
) -> dict[str, Any]:
    from django.db import connection

    before = snapshot(series_id)
    connection.close()  # not held open across the crash
    writer = crash.WriterProcess(series_id, rng.randrange(2**32), audit=True)
    writer.wait_for_acks(crash.MIN_ACKS)
    time.sleep(rng.uniform(0, max_delay))
    writing = writer.proc.poll() is None
    cluster.crash()
    writer.finish()  # it dies on its lost connection
    state = cluster.state()
    offset = cluster.log_size()
    restart = cluster.start()
    log = cluster.log_since(offset)
    acks, audits = writer.acks(), writer.audits()
    result = {
        "acks": acks,
        "audits": audits,
        "writing_at_crash": writing,
        "state_after_crash": state,
        "recovered": RECOVERY in log,
        "redo": REDO in log,
        "restart_seconds": restart,
        **crash.check(series_id, acks),
        "integrity": cluster.amcheck(),
        **audit_check(audits),
        **counts_check(before, snapshot(series_id), acks, audits),
    }
    connection.close()
    return result


def round_passed(r: dict[str, Any]) -> bool:
    return (
        r["writing_at_crash"]
        and r["state_after_crash"] != "shut down"
        and r["recovered"]
        and r["integrity"] == "ok"
        and not r["torn"]
        and not r["lost"]
        and not r["audit_lost"]
        and r["audit_verify"] == "ok"
        and not r["count_problems"]
        and len(r["acks"]) >= crash.MIN_ACKS
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--max-delay",
        type=float,
        default=0.5,
        help="The crash comes up to this many seconds after the first acknowledged writes.",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pg-bin", help="The folder of initdb and pg_ctl.")
    parser.add_argument(
        "--os-user", default="postgres", help="As root: the account the server runs as."
    )
    parser.add_argument(
        "--control-rounds",
        type=int,
        default=0,
        help="After the rounds, this many with synchronous_commit off: commits are reported "
        "before their log is written, so the crash loses some, and the checks must find them.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the cluster's folder (printed) at the end."
    )
    args = parser.parse_args()
    reason = cluster_unavailable(args.pg_bin, args.os_user)
    if reason:
        print(f"no cluster of our own: {reason}", file=sys.stderr)
        return 2
    bindir = find_bindir(args.pg_bin)
    assert bindir is not None
    cluster = Cluster(bindir, server_user(args.os_user))
    if args.keep:
        atexit.register(print, f"cluster kept in {cluster.root}", file=sys.stderr)
    else:
        atexit.register(cluster.remove)
    cluster.create()
    # Only ever the cluster of our own.
    os.environ["DATABASE_URL"] = cluster.url
    os.environ.pop("PGPASSWORD", None)
    crash.setup_django(None)
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return crash_rounds(cluster, args)


def crash_rounds(cluster: Cluster, args: argparse.Namespace) -> int:
    from django.db import connection

    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    series_id = crash.prepare()
    connection.close()
    began = time.perf_counter()
    rounds = [
        report(number, server_crash_round(cluster, series_id, rng, args.max_delay))
        for number in range(1, args.rounds + 1)
    ]
    restarts = [r["restart_seconds"] for r in rounds]
    summary: dict[str, Any] = {
        "test": "T26 crash consistency: PostgreSQL server crash",
        "database": "postgresql",
        "server": f"PostgreSQL {cluster.version()}, own cluster, data checksums, fsync on",
        "crash": "pg_ctl stop -m immediate",
        "rounds": args.rounds,
        "seed": seed,
        "writing_at_crash_rounds": sum(r["writing_at_crash"] for r in rounds),
        "unclean_shutdown_rounds": sum(r["state_after_crash"] != "shut down" for r in rounds),
        "recovered_rounds": sum(r["recovered"] for r in rounds),
        "redo_rounds": sum(r["redo"] for r in rounds),
        "integrity_ok_rounds": sum(r["integrity"] == "ok" for r in rounds),
        "torn_transactions": sum(len(r["torn"]) for r in rounds),
        "acknowledged_writes": sum(len(r["acks"]) for r in rounds),
        "acknowledged_but_lost": sum(len(r["lost"]) for r in rounds),
        "acknowledged_audit_events": sum(len(r["audits"]) for r in rounds),
        "audit_events_lost": sum(len(r["audit_lost"]) for r in rounds),
        "audit_verified_rounds": sum(r["audit_verify"] == "ok" for r in rounds),
        "counts_consistent_rounds": sum(not r["count_problems"] for r in rounds),
        "unreported_commits_found": sum(r["unreported_commits"] for r in rounds),
        "sessions_checked_last_round": rounds[-1]["sessions"] if rounds else 0,
        "rounds_with_min_acks": sum(len(r["acks"]) >= crash.MIN_ACKS for r in rounds),
        "restart_seconds_median": round(statistics.median(restarts), 2) if restarts else 0,
        "restart_seconds_max": round(max(restarts), 2) if restarts else 0,
        "seconds": round(time.perf_counter() - began, 1),
        "cpus": os.cpu_count(),
    }
    ok = all(round_passed(r) for r in rounds)
    if args.control_rounds:
        # The same crash with commits reported before their log is written: the checks must
        # find what it loses, or they could not have found a loss above either.
        cluster.configure(async_commit=True)
        cluster.reload()
        controls = [
            report(number, server_crash_round(cluster, series_id, rng, args.max_delay), "control")
            for number in range(1, args.control_rounds + 1)
        ]
        found = [bool(r["lost"] or r["audit_lost"]) for r in controls]
        summary["control"] = {
            "settings": "synchronous_commit off, wal_writer_delay 10s",
            "rounds": args.control_rounds,
            "recovered_rounds": sum(r["recovered"] for r in controls),
            "acknowledged_writes": sum(len(r["acks"]) for r in controls),
            "acknowledged_but_lost": sum(len(r["lost"]) for r in controls),
            "acknowledged_audit_events": sum(len(r["audits"]) for r in controls),
            "audit_events_lost": sum(len(r["audit_lost"]) for r in controls),
            "rounds_with_loss_found": sum(found),
        }
        ok = ok and any(found)
    print(json.dumps(summary, indent=2))
    return 0 if ok else 1


def report(number: int, r: dict[str, Any], kind: str = "round") -> dict[str, Any]:
    print(
        f"{kind} {number}: {len(r['acks'])} acknowledged, {len(r['audits'])} audited, "
        f"state {r['state_after_crash']!r}, recovered {r['recovered']}, "
        f"restart {r['restart_seconds']:.2f} s, amcheck {r['integrity']}, "
        f"torn {len(r['torn'])}, lost {len(r['lost'])}, audit lost {len(r['audit_lost'])}, "
        f"audit verify {r['audit_verify']}, unreported commits {r['unreported_commits']}"
        + "".join(f"; {p}" for p in r["count_problems"]),
        file=sys.stderr,
    )
    return r


if __name__ == "__main__":
    sys.exit(main())
