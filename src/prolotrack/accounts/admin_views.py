"""The clinic administrator's page of staff accounts: the list, and deactivating,
reactivating or resetting the second factor of one account.

Each change is a confirmation page (GET) that says what will happen and asks for the reason,
and its form (POST). The rules and the audit event are the services'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from prolotrack.accounts.access import get_staff_account_for_user, staff_accounts_for_user
from prolotrack.accounts.forms import AccountChangeForm
from prolotrack.accounts.models import User
from prolotrack.accounts.services import (
    AccountChange,
    AccountChangeRefused,
    account_change_refusal,
    user_deactivate,
    user_reactivate,
    user_second_factor_reset,
)
from prolotrack.audit.decorators import audit_refusals


@login_required
@audit_refusals(object_type="user")
@require_http_methods(["GET"])
def user_list(request: HttpRequest) -> HttpResponse:
    accounts = staff_accounts_for_user(request.user)  # type: ignore[arg-type]
    page = Paginator(accounts, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/users.html", {"page": page})


@dataclass(frozen=True)
class _Page:
    """What the confirmation page of one change says, and the service that makes it."""

    title: str
    button: str
    done: str
    service: Callable[..., object]


PAGES = {
    AccountChange.DEACTIVATE: _Page(
        title="Deactivate",
        button="Deactivate the account",
        done="{name} is deactivated: every session of theirs has ended and they cannot sign in.",
        service=user_deactivate,
    ),
    AccountChange.REACTIVATE: _Page(
        title="Reactivate",
        button="Reactivate the account",
        done="{name} is active again and can sign in.",
        service=user_reactivate,
    ),
    AccountChange.SECOND_FACTOR_RESET: _Page(
        title="Reset the second factor of",
        button="Reset the second factor",
        done="{name}'s authenticator app is removed and every session of theirs has ended: "
        "they set up an app again at their next sign-in.",
        service=user_second_factor_reset,
    ),
}


def _account_change(request: HttpRequest, user_id: int, change: AccountChange) -> HttpResponse:
    admin: User = request.user  # type: ignore[assignment]
    account = get_staff_account_for_user(admin, user_id)
    page = PAGES[change]
    form = AccountChangeForm(request.POST if request.method == "POST" else None)
    refusal: AccountChangeRefused | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            page.service(
                user=account, by=admin, reason=form.cleaned_data["reason"], request=request
            )
        except AccountChangeRefused as exc:
            refusal = exc
            status = 409
        else:
            messages.success(request, page.done.format(name=account.display_name))
            return redirect("accounts:users")
    else:
        refusal = account_change_refusal(change, user=account, by=admin)
        if request.method == "POST":
            status = 400
    context = {
        "account": account,
        "change": change.value,
        "page": page,
        "form": form,
        "refusal": refusal,
    }
    return render(request, "accounts/user_change.html", context, status=status)


@login_required
@audit_refusals(object_type="user", id_kwarg="user_id")
@require_http_methods(["GET", "POST"])
def user_deactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_change(request, user_id, AccountChange.DEACTIVATE)


@login_required
@audit_refusals(object_type="user", id_kwarg="user_id")
@require_http_methods(["GET", "POST"])
def user_reactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_change(request, user_id, AccountChange.REACTIVATE)


@login_required
@audit_refusals(object_type="user", id_kwarg="user_id")
@require_http_methods(["GET", "POST"])
def user_second_factor_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_change(request, user_id, AccountChange.SECOND_FACTOR_RESET)
