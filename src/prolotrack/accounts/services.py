"""Workflows on users: signing out other devices, and what a clinic administrator does to a
staff account: deactivate, reactivate, reset the second factor.

The three account changes share their rules (`account_change_refusal`) and their audit event:
a `change` of the user, with the change, the reason given and the outcome; a change the rules
refuse raises `AccountChangeRefused` after recording itself with the outcome `refused`.
"""

from __future__ import annotations

import enum

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_otp import devices_for_user

from prolotrack.accounts.models import Role, User
from prolotrack.accounts.sessions import GENERATION
from prolotrack.api.models import ApiToken
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record


class AccountChange(enum.Enum):
    """A change a clinic administrator makes to a staff account; the value is the audit
    event's `detail.change`."""

    DEACTIVATE = "deactivated"
    REACTIVATE = "reactivated"
    SECOND_FACTOR_RESET = "second_factor_reset"


class AccountChangeRefused(Exception):
    """The rules refuse this change of this account; the message says why, for the page."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _generation_raise(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def sessions_end_others(*, request: HttpRequest) -> None:
    """End every session of the request's user except this one, which gets a new id."""
    user = request.user
    with transaction.atomic():
        _generation_raise(user)  # type: ignore[arg-type]
        audit_record(request=request, action=Action.LOGOUT, detail={"scope": "other_devices"})
    request.session[GENERATION] = user.session_generation  # type: ignore[union-attr]
    request.session.cycle_key()


def second_factor_devices(user: User) -> list[object]:
    """Every authenticator device of `user`, confirmed or still being enrolled."""
    return list(devices_for_user(user, confirmed=None))


def _active_admin_ids(clinic_id: int | None, *, lock: bool) -> set[int]:
    admins = User.objects.filter(clinic_id=clinic_id, role=Role.CLINIC_ADMIN, is_active=True)
    if lock:
        # Two administrators deactivating each other at once: the second waits for the first
        # and then counts the administrators left (SQLite takes its write lock at BEGIN).
        # Always in the order of their ids, so that two such transactions cannot deadlock.
        admins = admins.order_by("pk").select_for_update()
    return set(admins.values_list("pk", flat=True))


# Nobody changes their own account from the administrators' page: a mistake there would lock
# them out (or, for the second factor, let whoever holds their password enrol a new app).
_OWN_ACCOUNT = {
    AccountChange.DEACTIVATE: (
        "You cannot deactivate your own account here: ask another administrator of the clinic."
    ),
    AccountChange.REACTIVATE: "You cannot reactivate your own account.",
    AccountChange.SECOND_FACTOR_RESET: (
        "You cannot reset your own second factor here: ask another administrator of the "
        "clinic, or the server's operator (prolotrack user reset-second-factor)."
    ),
}


def account_change_refusal(
    change: AccountChange, *, user: User, by: User | None, lock: bool = False
) -> AccountChangeRefused | None:
    """Why `by` may not make `change` to `user` now, or None when they may.

    `by` is None for the server's operator at the command line, who may change their own
    clinic's administrators but not leave a clinic without an active one either.
    """
    name = user.display_name
    if by is not None and by.pk == user.pk:
        return AccountChangeRefused(_OWN_ACCOUNT[change], code="self")
    if change is AccountChange.DEACTIVATE:
        if not user.is_active:
            return AccountChangeRefused(f"{name} is deactivated already.", code="state")
        if user.role == Role.CLINIC_ADMIN and _active_admin_ids(user.clinic_id, lock=lock) <= {
            user.pk
        }:
            return AccountChangeRefused(
                f"{name} is the clinic's last active administrator: nobody could manage its "
                "staff accounts. Another administrator must be active first.",
                code="last_admin",
            )
    elif change is AccountChange.REACTIVATE:
        if user.is_active:
            return AccountChangeRefused(f"{name} is active already.", code="state")
    elif not second_factor_devices(user):
        return AccountChangeRefused(
            f"{name} has no authenticator app set up: they set one up at their next sign-in.",
            code="state",
        )
    return None


def _audit_change(
    change: AccountChange,
    *,
    user: User,
    by: User | None,
    reason: str,
    request: HttpRequest | None,
    outcome: Outcome = Outcome.OK,
    **extra: object,
) -> None:
    detail: dict[str, object] = {"change": change.value}
    if reason:
        detail["reason"] = reason
    if by is None:
        detail["cli"] = True
    detail.update(extra)
    audit_record(
        request=request,
        user=by,
        action=Action.CHANGE,
        target=user,
        outcome=outcome,
        detail=detail,
    )


def _account_change(
    change: AccountChange,
    *,
    user: User,
    by: User | None,
    reason: str,
    request: HttpRequest | None,
) -> dict[str, object]:
    """Check the rules and make `change` in one transaction; audit it either way.

    Returns what the audit event's detail adds (for the reset, how many devices went).
    """
    try:
        with transaction.atomic():
            if change is AccountChange.DEACTIVATE:
                # The clinic's administrators before the account: every deactivation takes
                # the same rows in the same order.
                _active_admin_ids(user.clinic_id, lock=True)
            locked = User.objects.select_for_update().get(pk=user.pk)
            refusal = account_change_refusal(change, user=locked, by=by, lock=True)
            if refusal is not None:
                raise refusal
            extra: dict[str, object] = {}
            if change is AccountChange.DEACTIVATE:
                # An inactive user's session is refused by Django's auth backend at its next
                # request; the raised generation also keeps those sessions dead if the
                # account is reactivated.
                User.objects.filter(pk=user.pk).update(
                    is_active=False, session_generation=F("session_generation") + 1
                )
                # Its API tokens end too: reactivating the account must not bring back a
                # token that may have leaked (a new one is made on the tokens page).
                extra["tokens_revoked"] = ApiToken.objects.filter(
                    user_id=user.pk, revoked_at__isnull=True
                ).update(revoked_at=timezone.now())
            elif change is AccountChange.REACTIVATE:
                # The generation stays: sessions ended by the deactivation stay ended.
                User.objects.filter(pk=user.pk).update(is_active=True)
            else:
                devices = second_factor_devices(locked)
                for device in devices:
                    device.delete()  # type: ignore[attr-defined]
                User.objects.filter(pk=user.pk).update(
                    session_generation=F("session_generation") + 1
                )
                extra["devices"] = len(devices)
            user.refresh_from_db(fields=["is_active", "session_generation"])
            _audit_change(change, user=user, by=by, reason=reason, request=request, **extra)
    except AccountChangeRefused as refused:
        # Outside the rolled-back transaction, so that the refusal stays on record.
        _audit_change(
            change,
            user=user,
            by=by,
            reason=reason,
            request=request,
            outcome=Outcome.REFUSED,
            refused=refused.code,
        )
        raise
    return extra


def user_deactivate(
    *, user: User, by: User | None, reason: str = "", request: HttpRequest | None = None
) -> None:
    """Deactivate `user`: they cannot sign in, and every session of theirs ends at once.

    Refused (`AccountChangeRefused`) for one's own account, an account already deactivated,
    and the clinic's last active administrator.
    """
    _account_change(AccountChange.DEACTIVATE, user=user, by=by, reason=reason, request=request)


def user_reactivate(
    *, user: User, by: User | None, reason: str, request: HttpRequest | None = None
) -> None:
    """Let a deactivated `user` sign in again, with their password and second factor.

    Their sessions from before the deactivation stay ended. Refused for an active account.
    """
    _account_change(AccountChange.REACTIVATE, user=user, by=by, reason=reason, request=request)


def user_second_factor_reset(
    *, user: User, by: User | None, reason: str, request: HttpRequest | None = None
) -> int:
    """Remove every authenticator device of `user` (a lost or replaced phone) and end all
    their sessions: after their password at the next sign-in, they set up an app again.

    Returns how many devices were removed. Refused for one's own account and for an account
    without a device.
    """
    extra = _account_change(
        AccountChange.SECOND_FACTOR_RESET, user=user, by=by, reason=reason, request=request
    )
    return int(extra["devices"])  # type: ignore[call-overload]
