"""Whose accounts a user may manage: a clinic administrator, their own clinic's staff only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.models import Role, User


def require_clinic_admin(user: User) -> None:
    if not user.is_authenticated or user.role != Role.CLINIC_ADMIN or user.clinic_id is None:
        raise PermissionDenied("Only the clinic's administrators manage staff accounts.")


def staff_accounts_for_user(user: User) -> QuerySet[User]:
    """The staff accounts of the administrator's clinic (patients' accounts are not staff),
    each with `has_second_factor`: a confirmed authenticator app, and `enrolment_started`: an
    app being set up but not yet confirmed (a reset clears it). 403 for everyone else."""
    require_clinic_admin(user)
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    pending = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=False)
    return (
        User.objects.filter(clinic_id=user.clinic_id)
        .exclude(role=Role.PATIENT)
        .annotate(has_second_factor=Exists(confirmed), enrolment_started=Exists(pending))
        .order_by("last_name", "first_name", "username", "pk")
    )


def get_staff_account_for_user(user: User, user_id: int) -> User:
    """The staff account `user_id` of the administrator's clinic; 404 for any other id, of
    another clinic or none, so the answer never tells which."""
    account = staff_accounts_for_user(user).filter(pk=user_id).first()
    if account is None:
        raise Http404("No such staff account.")
    return account
