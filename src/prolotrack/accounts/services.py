"""Workflows on users: signing out other devices, deactivating an account."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from prolotrack.accounts.models import User
from prolotrack.accounts.sessions import GENERATION
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record


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


def user_deactivate(*, user: User, by: User, request: HttpRequest | None = None) -> None:
    """Deactivate `user`: they cannot sign in, and every session of theirs ends at once.

    An inactive user's session is refused by Django's auth backend at its next request; the
    raised generation also keeps those sessions dead if the account is reactivated.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            is_active=False, session_generation=F("session_generation") + 1
        )
        user.refresh_from_db(fields=["is_active", "session_generation"])
        audit_record(
            request=request,
            user=by,
            action=Action.CHANGE,
            target=user,
            detail={"change": "deactivated"},
        )
