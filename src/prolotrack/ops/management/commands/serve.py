"""`prolotrack serve`: the site under a production WSGI server (waitress), static files included.

Waitress is pure Python and runs the same on Linux, macOS and Windows; WhiteNoise (in the
middleware) serves the static files that `collectstatic` gathered, with long cache lifetimes
for the hashed names production mode gives them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.wsgi import get_wsgi_application
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from waitress.server import create_server

MAX_THREADS = 256


class Command(BaseCommand):
    help = (
        "Serve prolotrack with the waitress WSGI server and its static files with WhiteNoise. "
        "Refuses to start while migrations are unapplied. Set PROLOTRACK_PRODUCTION=True for "
        "a server that others reach over HTTPS."
    )
    # Checked in handle(), with the deployment checks in production mode.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1)."
        )
        parser.add_argument("--port", type=int, default=8000, help="Port (default 8000).")
        parser.add_argument(
            "--threads",
            type=int,
            default=8,
            help=f"Requests handled at once, 1 to {MAX_THREADS} (default 8).",
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="Do not gather static files into the data folder first (they are already).",
        )
        parser.add_argument(
            "--trusted-proxy",
            default="127.0.0.1",
            help="With PROLOTRACK_TRUST_PROXY_HEADER=True: the address of the proxy whose "
            "X-Forwarded-Proto header is believed (default 127.0.0.1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        threads: int = options["threads"]
        if not 1 <= port <= 65535:
            raise CommandError(f"--port must be 1 to 65535, not {port}.")
        if not 1 <= threads <= MAX_THREADS:
            raise CommandError(f"--threads must be 1 to {MAX_THREADS}, not {threads}.")
        self.check(include_deployment_checks=settings.PRODUCTION)
        _refuse_unapplied_migrations()
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)

        # The worker threads open their own connections; this one has done its job.
        connection.close()
        server_options: dict[str, Any] = {
            "host": options["host"],
            "port": port,
            "threads": threads,
            # No Server header: it would tell an attacker the software and version (T2).
            "ident": "",
        }
        if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
            # Waitress drops proxy headers from anyone it does not trust, so the header Django
            # reads (PROLOTRACK_TRUST_PROXY_HEADER) reaches it only from this address.
            server_options["trusted_proxy"] = options["trusted_proxy"]
            server_options["trusted_proxy_headers"] = {"x-forwarded-proto"}
        try:
            server = create_server(get_wsgi_application(), **server_options)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{port}: {exc}") from None
        mode = "production mode" if settings.PRODUCTION else "production mode off"
        self.stdout.write(
            f"prolotrack serving on http://{_url_host(options['host'])}:{port}/ "
            f"({threads} threads, {mode}). Stop with Ctrl+C.",
        )
        self.stdout.flush()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()


def _refuse_unapplied_migrations() -> None:
    """The check `migrate --check` makes: old tables under new code lose or garble data."""
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"Cannot reach the database: {exc}") from None
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan)
        raise CommandError(
            f"The database is not up to date ({len(plan)} unapplied migrations: {names}). "
            "Run `prolotrack migrate` first."
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
