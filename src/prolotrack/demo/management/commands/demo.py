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

from prolotrack.accounts.otp import secret_text
from prolotrack.core import synth
from prolotrack.demo.loader import LoadError
from prolotrack.demo.services import DEMO_PASSWORD, DemoResult, demo_ensure
from prolotrack.diary.demo import demo_patient_login

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
        self.stdout.write(_diary_banner(result.clinic, url))
        if not options["no_serve"]:
            # Demo only: this server shows each user's current second-factor code on the
            # sign-in page, so a visitor needs no authenticator app. Never in production.
            settings.DEMO_SHOW_CODES = not settings.PRODUCTION
            call_command("runserver", addrport, use_reloader=False)


def _diary_banner(clinic: Any, url: str) -> str:
    """The demo patient's one-time sign-in link for the diary (patients have no password)."""
    login = demo_patient_login(clinic=clinic, base_url=url)
    if login is None:
        return ""
    return (
        f"  Patient diary: {login.name} signs in with this one-time link (valid 30 minutes):\n"
        f"    {login.link}\n"
        f"  For a new link, ask for one for {login.email} at\n"
        f"    {url}diary/signin/\n"
        "  and copy it from this server's output (the demo prints emails instead of sending).\n"
    )


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
    secrets = [
        f"    {name + ':':<{width}}{secret_text(device)}" for name, device in result.devices.items()
    ]
    uris = [f"    {name}: {device.config_url}" for name, device in result.devices.items()]
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
        "  Second step, DEMO ONLY: staff then type a 6-digit code from an authenticator app.",
        "  This demo server shows the current code on that page, so no app is needed. To try",
        "  an app, add a user's TOTP secret to it (time-based, 6 digits, 30 seconds):",
        *secrets,
        "  or turn its otpauth address into a QR code and scan it:",
        *uris,
        "  A real installation never shows codes or secrets.",
        "",
        "  Every patient, name and record here is synthetic: invented for the demo, none is real.",
    ]
    if serving:
        lines.append("  Press Ctrl+C to stop the server.")
    return "\n".join(lines) + "\n"
