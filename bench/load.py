"""Load test: ``prolotrack serve`` on loopback, many connections, the chart page and the API.

It prepares a database with the demo clinic (``prolotrack demo --no-serve``), signs a staff
user in by writing a session straight into the database (second factor marked verified, the way
django-otp marks it at sign-in), starts ``prolotrack serve`` on a free loopback port and drives
it with an asyncio load generator: ``--connections`` keep-alive connections for ``--seconds``,
each alternating a patient's chart page (``/patients/<id>/``) and the API's read of the same
patient (``/api/v1/patients/<id>``). Every request is a real one: the session is looked up, the
access helpers run, and each page and API read is written to the audit trail.

    uv run python bench/load.py                                # SQLite, 60 s, 64 connections
    DATABASE_URL=postgres://owner@host/scratch uv run python bench/load.py --app-role bench_app

Without DATABASE_URL it makes a SQLite database in a new temporary folder. With DATABASE_URL
(a scratch database: the demo clinic is loaded into it) and ``--app-role``, the server runs as
that role, created if missing without the powers that bypass row-level security and given the
grants of ``prolotrack rls grants``: the load then runs behind the clinic wall, as in
production. Prints one JSON object: requests, errors, throughput, p50 and p99 latency, per
endpoint and in all. Exit status 0 when no request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HOST = "127.0.0.1"


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        count = len(ordered) + sum(self.errors.values())
        return {
            "requests": count,
            "errors": sum(self.errors.values()),
            "errors_by_kind": self.errors,
            "throughput_rps": round(count / seconds, 1),
            "latency_ms": {
                "p50": round(percentile(ordered, 50) * 1000, 1),
                "p99": round(percentile(ordered, 99) * 1000, 1),
                "max": round(ordered[-1] * 1000, 1) if ordered else None,
                "mean": round(statistics.fmean(ordered) * 1000, 1) if ordered else None,
            },
        }


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# Preparing the database and the signed-in session ---------------------------------------------


def prolotrack(*args: str, env: dict[str, str]) -> None:
    # Its output goes to stderr: stdout is the JSON result.
    subprocess.run(
        [sys.executable, "-m", "prolotrack", *args], env=env, check=True, stdout=sys.stderr
    )


def sign_in(username: str) -> tuple[str, int, str]:
    """(session cookie name, patient id, session key) for ``username``, written into the
    database as a sign-in with the second factor would leave it."""
    import importlib

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from prolotrack.accounts.models import User
    from prolotrack.patients.models import CareTeamMember

    user = User.objects.get(username=username)
    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if getattr(user, "needs_second_factor", False):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Load test", confirmed=True)
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    # A patient in the user's care, so the chart opens without breaking the glass.
    member = CareTeamMember.objects.filter(user=user).order_by("patient_id").first()
    if member is None:
        raise SystemExit(f"{username} has no patient in their care")
    return settings.SESSION_COOKIE_NAME, member.patient_id, store.session_key or ""


def app_role_url(url: str, role: str) -> str:
    """Create ``role`` if missing (no superuser, no BYPASSRLS), grant it the app's rights, and
    return DATABASE_URL with the role as its user."""
    from django.db import connection

    from prolotrack.ops import rls

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
        for statement in rls.app_role_sql(role):
            cursor.execute(statement)
    parts = urlsplit(url)
    host = parts.hostname or HOST
    netloc = f"{role}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# The server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int, threads: int) -> subprocess.Popen[str]:
    command = ["serve", "--host", HOST, "--port", str(port), "--threads", str(threads)]
    server = subprocess.Popen(
        [sys.executable, "-m", "prolotrack", *command],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if "serving on" not in line:
        server.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return server


# The load generator ----------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) of one HTTP/1.1 response; the body is read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()
        return status, False
    return status, headers.get("connection", "").lower() != "close"


async def connection_loop(
    port: int, targets: list[tuple[str, bytes]], stats: dict[str, Stats], until: float, first: int
) -> None:
    reader = writer = None
    turn = first
    while time.monotonic() < until:
        name, request = targets[turn % len(targets)]
        turn += 1
        began = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            assert reader is not None
            writer.write(request)
            await writer.drain()
            status, keep_alive = await read_response(reader)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            stats[name].error(type(exc).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        if status == 200:
            stats[name].latencies.append(time.perf_counter() - began)
        else:
            stats[name].error(f"HTTP {status}")
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def drive(
    port: int, targets: list[tuple[str, bytes]], connections: int, seconds: float
) -> tuple[dict[str, Stats], float]:
    stats = {name: Stats() for name, _ in targets}
    began = time.monotonic()
    until = began + seconds
    await asyncio.gather(
        *(connection_loop(port, targets, stats, until, n) for n in range(connections))
    )
    return stats, time.monotonic() - began


def request_bytes(path: str, port: int, cookie: str, accept: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nCookie: {cookie}\r\n"
        f"Accept: {accept}\r\nUser-Agent: prolotrack-load\r\n\r\n"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-threads", type=int, default=8, help="prolotrack serve --threads")
    parser.add_argument("--user", default="physician", help="The demo login to sign in as.")
    parser.add_argument("--data-dir", help="The data folder (SQLite: of the database file).")
    parser.add_argument("--app-role", help="PostgreSQL: serve as this role, behind the wall.")
    args = parser.parse_args()

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "prolotrack.settings"}
    env.pop("PROLOTRACK_PRODUCTION", None)
    # A data folder of its own even on PostgreSQL (secret key, static files).
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="prolotrack-load-")
    if args.data_dir is None:
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    env["PROLOTRACK_DATA_DIR"] = data_dir
    os.environ.update(env)
    print("preparing the demo clinic...", file=sys.stderr)
    prolotrack("demo", "--no-serve", env=env)

    import django

    django.setup()
    from prolotrack.ops.scoping import scopes_disabled_here

    scopes_disabled_here()  # the operator's script: across clinics (ops.scoping)
    from django.db import connection

    cookie_name, patient_id, session_key = sign_in(args.user)
    server_env = dict(env)
    if args.app_role:
        if connection.vendor != "postgresql":
            raise SystemExit("--app-role is for PostgreSQL")
        server_env["DATABASE_URL"] = app_role_url(env["DATABASE_URL"], args.app_role)
    vendor = connection.vendor
    connection.close()

    port = free_port()
    server = start_server(server_env, port, args.server_threads)
    try:
        cookie = f"{cookie_name}={session_key}"
        targets = [
            ("chart_page", request_bytes(f"/patients/{patient_id}/", port, cookie, "text/html")),
            (
                "api_patient",
                request_bytes(f"/api/v1/patients/{patient_id}", port, cookie, "application/json"),
            ),
        ]
        # One of each first: a setup mistake shows as a clear message, not 60 s of errors.
        warm, _ = asyncio.run(drive(port, targets, len(targets), 0.001))
        if any(s.errors for s in warm.values()):
            raise SystemExit(f"warm-up failed: { {n: s.errors for n, s in warm.items()} }")
        print(f"driving {args.connections} connections for {args.seconds} s...", file=sys.stderr)
        stats, seconds = asyncio.run(drive(port, targets, args.connections, args.seconds))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    everything = Stats()
    for s in stats.values():
        everything.latencies.extend(s.latencies)
        for kind, n in s.errors.items():
            everything.errors[kind] = everything.errors.get(kind, 0) + n
    result = {
        "test": "load",
        "database": vendor,
        "server_role": args.app_role or "owner",
        "connections": args.connections,
        "seconds": round(seconds, 1),
        "server_threads": args.server_threads,
        "cpus": os.cpu_count(),
        "total": everything.summary(seconds),
        "endpoints": {name: s.summary(seconds) for name, s in stats.items()},
    }
    print(json.dumps(result, indent=2))
    return 0 if result["total"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
