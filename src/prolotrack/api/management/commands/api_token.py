"""`prolotrack api-token create|revoke|list --clinic NAME`: API tokens from the command line.

For the person who runs the server (for example to set up an integration before any clinic
administrator has signed in). `create` prints the secret once, on its own line, so that a
script can capture it; only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from prolotrack.accounts.models import Clinic, User
from prolotrack.api.models import ApiToken
from prolotrack.api.tokens import token_create, token_revoke
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record


class Command(BaseCommand):
    help = "Create, revoke or list a clinic's API tokens."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print its secret once.")
        create.add_argument("--clinic", required=True, help="The clinic's name.")
        create.add_argument("--name", required=True, help="What will use the token.")
        create.add_argument("--user", required=True, help="The username the token acts as.")
        create.add_argument(
            "--write",
            action="store_true",
            help="Allow changes too (tokens are read-only unless this is given).",
        )
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("--clinic", required=True, help="The clinic's name.")
        revoke.add_argument("prefix", help="The token's prefix, as `list` shows it.")
        listing = sub.add_parser("list", help="List the clinic's tokens.")
        listing.add_argument("--clinic", required=True, help="The clinic's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"--clinic: no clinic is called {options['clinic']!r}.")
        getattr(self, f"_{options['action']}")(clinic, options)

    def _create(self, clinic: Clinic, options: dict[str, Any]) -> None:
        user = User.objects.filter(clinic=clinic, username=options["user"]).first()
        if user is None:
            raise CommandError(f"--user: {clinic.name} has no user {options['user']!r}.")
        try:
            token, secret = token_create(
                clinic=clinic,
                name=options["name"],
                user=user,
                read_only=not options["write"],
                created_by=None,
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise CommandError(f"--{field}: {' '.join(messages)}") from None
        audit_record(
            action=Action.CREATE,
            object_type="api_token",
            object_id=token.pk,
            clinic_id=clinic.pk,
            detail={"acts_as": user.pk, "read_only": token.read_only, "cli": True},
        )
        access = "read-only" if token.read_only else "read and write"
        self.stderr.write(
            f"Token {token.prefix} ({access}, acts as {user.username}) created. "
            "Its secret follows; it is shown only this once:"
        )
        self.stdout.write(secret)

    def _revoke(self, clinic: Clinic, options: dict[str, Any]) -> None:
        prefix = options["prefix"].removeprefix("ptk_")
        token = ApiToken.objects.filter(clinic=clinic, prefix=prefix).first()
        if token is None:
            raise CommandError(f"{clinic.name} has no token {options['prefix']!r}.")
        token_revoke(token=token)
        audit_record(
            action=Action.CHANGE,
            object_type="api_token",
            object_id=token.pk,
            clinic_id=clinic.pk,
            detail={"cli": True},
        )
        self.stdout.write(f"Token {token.prefix} ({token.name}) is revoked.")

    def _list(self, clinic: Clinic, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.filter(clinic=clinic).select_related("user")
        for t in tokens:
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}Z" if t.revoked_at else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}Z" if t.last_used_at else "never"
            access = "read-only" if t.read_only else "read-write"
            self.stdout.write(
                f"{t.prefix}\t{t.name}\t{t.user.username}\t{access}\t{state}\tlast used {used}"
            )
        if not tokens:
            self.stdout.write(f"{clinic.name} has no API tokens.")
