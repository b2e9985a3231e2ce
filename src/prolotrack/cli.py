"""The `prolotrack` command: every Django management command, plus `demo` and friends.

`prolotrack migrate`, `prolotrack demo`, `prolotrack createsuperuser`... all go through Django's
command machinery with prolotrack's settings, so every command honours DATABASE_URL and
PROLOTRACK_DATA_DIR the same way.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["prolotrack", *argv])
    args[0] = "prolotrack"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
