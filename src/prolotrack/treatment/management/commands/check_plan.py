"""`prolotrack check-plan FILE`: check an injection plan (JSON) against the clinical rules.

Reads the plan from FILE, or from standard input when FILE is "-", and prints the findings and
the session's totals as JSON. Exit status: 0 when nothing blocks, 1 when something blocks, 2 when
the input is invalid (the message names the field). The plan format is documented in
``prolotrack.core.rules.plan``; the session form and the API call the same ``check_plan``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.core.rules import PlanError, check_plan, parse_plan_json

EXIT_BLOCKED = 1
EXIT_INVALID = 2


class Command(BaseCommand):
    help = (
        "Check an injection plan (JSON, from FILE or - for standard input) against the safety "
        "rules and print the findings. Exit 0 when nothing blocks, 1 when something blocks, "
        "2 when the input is invalid."
    )
    # Lets call_command(..., stdin=StringIO(...)) stand in for standard input.
    stealth_options = ("stdin",)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Usage lines show the documented, dashed name (see prolotrack.cli.ALIASES).
        return super().create_parser(prog_name, "check-plan", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='The plan as a JSON file, or "-" for standard input.')

    def handle(self, *args: Any, **options: Any) -> None:
        text = _read(options["file"], options.get("stdin") or sys.stdin)
        try:
            plan = parse_plan_json(text)
        except PlanError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        result = check_plan(plan)
        self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        if result.blocked:
            raise SystemExit(EXIT_BLOCKED)


def _read(name: str, stdin: TextIO) -> str:
    if name == "-":
        return stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            f"{name}: cannot read the plan: {exc}", returncode=EXIT_INVALID
        ) from None
