"""The `prolotrack` command: every Django management command, plus `demo` and friends.

`prolotrack migrate`, `prolotrack demo`, `prolotrack createsuperuser`... all go through Django's
command machinery with prolotrack's settings, so every command honours DATABASE_URL and
PROLOTRACK_DATA_DIR the same way.
"""

from __future__ import annotations

import os
import sys

# Django names a command after its module, and a module name cannot hold a dash; these are the
# documented, dashed spellings of such commands.
ALIASES = {
    "check-plan": "check_plan",
    "api-token": "api_token",
    "export-registry": "export_registry",
    "import-registry": "import_registry",
    "export-fhir": "export_fhir",
    "import-fhir": "import_fhir",
}


def _dealias(args: list[str]) -> list[str]:
    """Map a dashed command name, also after "help", to its module name."""
    position = 2 if args[1:2] == ["help"] else 1
    if len(args) > position:
        args[position] = ALIASES.get(args[position], args[position])
    return args


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["prolotrack", *argv])
    args[0] = "prolotrack"
    from prolotrack.ops.scoping import scopes_disabled

    # The command line is the operator's: its commands (migrate, backup, demo, imports,
    # exports for a named clinic) work across clinics on purpose. Requests served by `serve`
    # run in threads of their own, each in its own request's scope (ops.scoping).
    with scopes_disabled():
        execute_from_command_line(_dealias(args))


if __name__ == "__main__":
    main()
