"""Sign-in: the password page (with its rate limit), the second-factor pages and the account page.

Thin views: the rules live in `otp`, `sessions`, `ratelimit` and `services`.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.accounts import otp
from prolotrack.accounts.forms import CodeForm
from prolotrack.accounts.ratelimit import sign_in_rate_exceeded
from prolotrack.accounts.services import sessions_end_others
from prolotrack.accounts.sessions import MESSAGES, session_start
from prolotrack.audit.services import client_ip


class SignInView(LoginView):
    """Django's sign-in page, behind the per-address rate limit, leading staff to the second
    factor. The lockout per (username, address) is axes', inside `authenticate()`."""

    template_name = "registration/login.html"

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method == "POST" and sign_in_rate_exceeded(client_ip(request)):
            context = {"per_minute": settings.SIGN_IN_RATE_PER_MINUTE}
            response = render(request, "registration/rate_limited.html", context, status=429)
            response["Retry-After"] = "60"
            return response
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["signed_out"] = MESSAGES.get(self.request.GET.get("signed_out", ""), "")
        return context

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        session_start(self.request, form.get_user())
        return response

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if self.request.user.needs_second_factor:  # type: ignore[union-attr]
            return f"{reverse('accounts:second_factor')}?{urlencode({'next': url})}"
        return url


def _next_url(request: HttpRequest) -> str:
    """Where to go once verified: the page first asked for, when it is one of ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _demo_code(device: otp.TOTPDevice) -> str:
    """The current code, only for the demo's own server and never in production."""
    if settings.DEMO_SHOW_CODES and not settings.PRODUCTION:
        return otp.current_code(device)
    return ""


def _check(request: HttpRequest, device: otp.TOTPDevice, form: CodeForm) -> bool:
    """Check the posted code; on failure put the reason on the form's field."""
    result = otp.code_check(request=request, device=device, code=form.cleaned_data["code"])
    if result is otp.CodeCheck.VERIFIED:
        otp.second_factor_login(request, device)
        return True
    if result is otp.CodeCheck.LOCKED:
        until = otp.locked_until(device)
        minutes = math.ceil((until - timezone.now()).total_seconds() / 60) if until else 1
        form.add_error(
            "code",
            f"Too many wrong codes: no code is accepted for {minutes} minute"
            f"{'s' if minutes != 1 else ''}. Wait, or ask your clinic administrator.",
        )
    else:
        form.add_error(
            "code", "That code is not right or was already used. Type the code your app shows now."
        )
    return False


@login_required
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Second step of signing in for staff: the code of their authenticator app."""
    user = request.user
    if not user.needs_second_factor or user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    device = otp.device_confirmed(user)  # type: ignore[arg-type]
    if device is None:
        query = urlencode({"next": _next_url(request)})
        return redirect(f"{reverse('accounts:second_factor_enrol')}?{query}")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _check(request, device, form):
        return redirect(_next_url(request))
    context = {
        "form": form,
        "next": _next_url(request),
        "locked": otp.locked_until(device) is not None,
        "demo_code": _demo_code(device),
    }
    return render(request, "accounts/second_factor.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in of a staff user: add prolotrack to an authenticator app and confirm."""
    user = request.user
    if not user.needs_second_factor or user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    if otp.device_confirmed(user) is not None:  # type: ignore[arg-type]
        # A second device is added by an administrator, never by whoever knows the password.
        query = urlencode({"next": _next_url(request)})
        return redirect(f"{reverse('accounts:second_factor')}?{query}")
    device = otp.device_for_enrolment(user)  # type: ignore[arg-type]
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _check(request, device, form):
        messages.success(request, "Your authenticator app is set up.")
        return redirect(_next_url(request))
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": otp.qr_code_svg(device),
        "secret": otp.secret_text(device),
        "demo_code": _demo_code(device),
    }
    return render(request, "accounts/second_factor_enrol.html", context)


@login_required
@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html")


@login_required
@require_POST
def sign_out_others(request: HttpRequest) -> HttpResponse:
    sessions_end_others(request=request)
    messages.success(request, "Every other device is signed out; this one stays signed in.")
    return redirect("accounts:account")
