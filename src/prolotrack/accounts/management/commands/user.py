"""`prolotrack user list|deactivate|reactivate|reset-second-factor --clinic NAME`: a clinic's
staff accounts from the command line.

For the person who runs the server, when no administrator of the clinic can do it on the Staff
accounts page: the clinic's only administrator lost their phone, or left. The same services
and rules as the page (a clinic keeps an active administrator), recorded in the audit trail
with `detail.cli = true` and no user.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.forms import AccountChangeForm
from prolotrack.accounts.models import Clinic, Role, User
from prolotrack.accounts.services import (
    AccountChangeRefused,
    user_deactivate,
    user_reactivate,
    user_second_factor_reset,
)

CHANGES = {
    "deactivate": "Deactivate an account: it cannot sign in, and every session of it ends.",
    "reactivate": "Let a deactivated account sign in again.",
    "reset-second-factor": (
        "Remove an account's authenticator app and end its sessions: it sets one up again at "
        "its next sign-in."
    ),
}


class Command(BaseCommand):
    help = "List a clinic's staff accounts; deactivate, reactivate or reset a second factor."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="List the clinic's staff accounts.")
        listing.add_argument("--clinic", required=True, help="The clinic's name.")
        for name, text in CHANGES.items():
            change = sub.add_parser(name, help=text)
            change.add_argument("--clinic", required=True, help="The clinic's name.")
            change.add_argument(
                "--reason", required=True, help="Why; kept in the audit trail (10-200 characters)."
            )
            change.add_argument("username", help="The account's username.")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"--clinic: no clinic is called {options['clinic']!r}.")
        if options["action"] == "list":
            self._list(clinic)
        else:
            self._change(clinic, options)

    def _list(self, clinic: Clinic) -> None:
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        accounts = (
            User.objects.filter(clinic=clinic)
            .exclude(role=Role.PATIENT)
            .annotate(has_second_factor=Exists(confirmed))
            .order_by("username")
        )
        for a in accounts:
            state = "active" if a.is_active else "deactivated"
            factor = "second factor set up" if a.has_second_factor else "no second factor"
            last = f"{a.last_login:%Y-%m-%d %H:%M}Z" if a.last_login else "never"
            self.stdout.write(f"{a.username}\t{a.role}\t{state}\t{factor}\tlast sign-in {last}")
        if not accounts:
            self.stdout.write(f"{clinic.name} has no staff accounts.")

    def _change(self, clinic: Clinic, options: dict[str, Any]) -> None:
        username = options["username"]
        user = (
            User.objects.filter(clinic=clinic, username=username).exclude(role=Role.PATIENT).first()
        )
        if user is None:
            raise CommandError(f"{clinic.name} has no staff account {username!r}.")
        form = AccountChangeForm({"reason": options["reason"]})
        if not form.is_valid():
            raise CommandError(f"--reason: {' '.join(form.errors['reason'])}")
        reason = form.cleaned_data["reason"]
        action = options["action"]
        try:
            if action == "deactivate":
                user_deactivate(user=user, by=None, reason=reason)
                done = "is deactivated; every session of theirs has ended"
            elif action == "reactivate":
                user_reactivate(user=user, by=None, reason=reason)
                done = "is active again"
            else:
                count = user_second_factor_reset(user=user, by=None, reason=reason)
                done = (
                    f"has no authenticator app any more ({count} removed) and every session of "
                    "theirs has ended; they set one up at their next sign-in"
                )
        except AccountChangeRefused as refusal:
            raise CommandError(refusal.message) from None
        self.stdout.write(f"{user.username} {done}.")
