"""`flush`, able to empty the append-only audit tables too.

Django's `flush` empties every table, and its test cases that commit (live-server browser tests,
concurrency tests) flush after each test. The audit tables' triggers refuse that. This command
lifts them inside the flush's own transaction and puts them back before it commits; see
`append_only.triggers_lifted` for why that does not weaken a production set-up, where the
application's database role has no DELETE or TRUNCATE on the log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from prolotrack.audit.append_only import triggers_lifted


class Command(flush.Command):
    help = flush.Command.help + " The audit trail is emptied too."

    def handle(self, **options: Any) -> None:
        database = options["database"]
        connection = connections[database]
        if options["interactive"]:
            # Asked here, before the transaction starts: a write transaction left open while
            # someone reads the question would hold the SQLite write lock all that time.
            confirm = input(
                "You have requested a flush of the database.\n"
                "This will IRREVERSIBLY DESTROY all data currently in the "
                f'"{connection.settings_dict["NAME"]}" database, the audit trail included,\n'
                "and return each table to an empty state.\n"
                "Are you sure you want to do this?\n\n"
                "    Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
        with transaction.atomic(using=database), triggers_lifted(connection):
            super().handle(**{**options, "interactive": False})
