"""`prolotrack audit verify`: check the audit trail's hash chain (RELIABILITY.md T17, T27)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.audit.verify import verify_database


class Command(BaseCommand):
    help = "Work with the audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        subcommands.add_parser(
            "verify",
            help="Check every event's hash and link, and that none was cut off the end. "
            "Exit status 0 when the trail is intact, 1 otherwise.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self.verify()

    def verify(self) -> None:
        result = verify_database()
        if result.ok:
            self.stdout.write(f"audit trail intact: {result.checked} events")
            if result.head is not None:
                event_id, digest = result.head
                self.stdout.write(f"head: event {event_id}, hash {digest}")
            return
        for event_id, text in result.problems:
            where = f"event {event_id}" if event_id is not None else "log"
            self.stderr.write(f"{where}: {text}")
        raise CommandError(
            f"audit trail NOT intact: {len(result.problems)} problems in {result.checked} events",
            returncode=1,
        )
