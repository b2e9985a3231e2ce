"""`prolotrack demo`: a working clinic on this machine in one command, all of it synthetic."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

# The same pattern runserver parses its address with, so both accept exactly the same input.
from django.core.management.commands.runserver import naiveip_re
from django.db import connection
from django.utils import timezone

from prolotrack.core import synth
from prolotrack.demo.loader import LoadError
from prolotrack.demo.services import DEMO_PASSWORD, DemoResult, demo_ensure

MAX_PATIENTS = 5000


class Command(BaseCommand):
    help = (
        "Migrate the database, load a synthetic demo clinic (once), print the demo logins and "
        "serve the site. Every patient and record in it is invented."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything but do not start serving."
        )
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Address and port to serve on (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Seed of the synthetic data (default 2026)."
        )
        parser.add_argument(
            "--patients",
            type=int,
            default=40,
            help=f"Patients in the demo clinic, 1 to {MAX_PATIENTS} (default 40).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo clinic's data and load it again (other clinics are untouched).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addrport: str = options["addrport"]
        url = _url(addrport)
        patients: int = options["patients"]
        if not 1 <= patients <= MAX_PATIENTS:
            raise CommandError(f"--patients must be between 1 and {MAX_PATIENTS}, not {patients}.")

        call_command("migrate", interactive=False, verbosity=0)
        # "Today" in the clinic's own zone, so the demo's sessions always end in recent days.
        today = timezone.now().astimezone(ZoneInfo(synth.TIME_ZONE)).date()
        try:
            result = demo_ensure(
                seed=options["seed"], patients=patients, today=today, reset=options["reset"]
            )
        except LoadError as exc:
            raise CommandError(f"Cannot set up the demo: {exc}.") from None

        self.stdout.write(_banner(result, url, serving=not options["no_serve"]))
        if not options["no_serve"]:
            call_command("runserver", addrport, use_reloader=False)


def _url(addrport: str) -> str:
    """The address a browser opens for ``addrport``; CommandError when runserver would refuse it."""
    match = re.match(naiveip_re, addrport)
    if match is None:
        raise CommandError(
            f"--addrport must be a port or address:port, such as 8000 or 127.0.0.1:8000, "
            f"not {addrport!r}."
        )
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise CommandError(f"--addrport: the port must be 1 to 65535, not {port}.")
    host = match["addr"] or "127.0.0.1"
    if host in ("0", "0.0.0.0"):  # noqa: S104 (every interface: browse to this machine's own)
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def _database() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite, {db['NAME']}"
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    return f"{connection.display_name} database {db['NAME']!r} on {where}"


def _banner(result: DemoResult, url: str, *, serving: bool) -> str:
    if result.created:
        loaded = f"{result.patients} patients, loaded in {result.load_seconds:.1f} s"
    else:
        loaded = f"{result.patients} patients, loaded earlier (--reset loads it afresh)"
    width = max(len(login.username) for login in result.logins) + 2
    rows = []
    for login in result.logins:
        role = login.role.label + (f" ({login.note})" if login.note else "")
        rows.append(f"    {login.username:<{width}}{DEMO_PASSWORD}    {role}")
    lines = [
        "",
        "prolotrack demo",
        "",
        f"  Open      {url}",
        f"  Clinic    {result.clinic.name}: {loaded}",
        f"  Data      {settings.DATA_DIR}",
        f"  Database  {_database()}",
        "",
        "  Sign in as:",
        f"    {'Username':<{width}}{'Password':<{len(DEMO_PASSWORD) + 4}}Role",
        *rows,
        "",
        "  Every patient, name and record here is synthetic: invented for the demo, none is real.",
    ]
    if serving:
        lines.append("  Press Ctrl+C to stop the server.")
    return "\n".join(lines) + "\n"
