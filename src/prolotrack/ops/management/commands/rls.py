"""`prolotrack rls`: row-level security between clinics on PostgreSQL (``ops.rls``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from prolotrack.ops import rls


class Command(BaseCommand):
    help = "Row-level security between clinics on PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        subcommands.add_parser(
            "status",
            help="List the clinic tables and whether each is protected. Exit status 0 when "
            "all are, 1 otherwise.",
        )
        subcommands.add_parser(
            "apply",
            help="Protect the clinic tables that are not (migrate does this already). Run as "
            "the tables' owner.",
        )
        grants = subcommands.add_parser(
            "grants",
            help="Print the SQL that gives the application's role its rights; run it as the "
            "owner after every migrate.",
        )
        grants.add_argument("role", help="The application's role, for example prolotrack_app.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if options["subcommand"] == "grants":
            try:
                statements = rls.app_role_sql(options["role"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            for statement in statements:
                self.stdout.write(statement + ";")
            return
        if connection.vendor != "postgresql":
            self.stdout.write(
                "Row-level security is PostgreSQL's; this database is "
                f"{connection.vendor}, which serves one clinic on one machine."
            )
            return
        if options["subcommand"] == "apply":
            for table in rls.apply(connection):
                self.stdout.write(f"protected {table}")
            return
        models = rls.clinic_models()
        states = rls.table_states(connection, [m._meta.db_table for m in models])
        for state in states:
            mark = "protected" if state.protected else "NOT protected"
            self.stdout.write(f"{state.table}: {mark}")
        absent = sorted({m._meta.db_table for m in models} - {s.table for s in states})
        for table in absent:
            self.stdout.write(f"{table}: missing (not migrated)")
        missing = [s.table for s in states if not s.protected] + absent
        if missing:
            raise CommandError(
                f"{len(missing)} clinic tables lack row-level security; run "
                "`prolotrack migrate` or `prolotrack rls apply` as the owner",
                returncode=1,
            )
        self.stdout.write(f"row-level security on all {len(states)} clinic tables")
