"""Response headers and error handling that every page of prolotrack needs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string

log = logging.getLogger("prolotrack.errors")

# Exceptions Django turns into 400/403/404 pages itself: they are answers, not errors.
EXPECTED_EXCEPTIONS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)

# No inline script or style anywhere: pages load their scripts and styles from /static/, so a
# stored script in a note cannot run even if escaping ever failed (RELIABILITY.md T2, T11).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class SecurityHeadersMiddleware:
    """Health information must not linger in caches, and pages run only our own code.

    Every dynamic response gets `Cache-Control: no-store` (static files are served before this
    middleware runs and keep their long cache lifetimes) and a strict Content-Security-Policy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class CorrelatedErrorMiddleware:
    """An unexpected error shows a plain page with a reference, never a stack trace.

    The same reference is logged with the traceback, so support can find the cause from what
    the user reads out (RELIABILITY.md T19).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.conf import settings

        if settings.DEBUG or isinstance(exception, EXPECTED_EXCEPTIONS):
            return None
        reference = uuid.uuid4().hex[:12]
        # The path is the client's: its CR/LF and other control characters are written
        # escaped, as Django's own request log does, so it cannot forge a log line (T18).
        log.error(
            "unhandled error %s on %s %s",
            reference,
            request.method,
            request.path.encode("unicode_escape").decode("ascii"),
            exc_info=exception,
        )
        body = render_to_string("500.html", {"reference": reference})
        return HttpResponse(body, status=500)


# Routes a staff user reaches before their second factor is verified: nothing in them shows
# health information (RELIABILITY.md T21).
BEFORE_SECOND_FACTOR = frozenset(
    {
        "login",
        "logout",
        "health",
        "accounts:second_factor",
        "accounts:second_factor_enrol",
    }
)
API_PREFIX = "/api/"


def _api_error(code: str, message: str) -> HttpResponse:
    from django.http import JsonResponse

    return JsonResponse({"error": {"code": code, "message": message, "field": ""}}, status=401)


class SessionLifetimeMiddleware:
    """Ends a signed-in session that has been idle, lived too long or was revoked
    (accounts.sessions; RELIABILITY.md T15).

    A page request is sent to the sign-in page, which says why; an API request answers 401.
    A session signed in without the sign-in page (older sessions, the test client's
    `force_login`) is stamped at its first request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.contrib.auth import logout
        from django.shortcuts import resolve_url

        from prolotrack.accounts.sessions import session_ended, session_is_started, session_start

        user = request.user
        if user.is_authenticated:
            if not session_is_started(request):
                session_start(request, user)  # type: ignore[arg-type]
            else:
                ended = session_ended(request, user)  # type: ignore[arg-type]
                if ended is not None:
                    logout(request)
                    if request.path == resolve_url("login"):
                        # Signing in again: go on with it, as the signed-out user.
                        return self.get_response(request)
                    if request.path.startswith(API_PREFIX):
                        return _api_error("unauthenticated", "Your session ended. Sign in again.")
                    query = urlencode(
                        {"signed_out": ended.value}
                        | ({"next": request.get_full_path()} if request.method == "GET" else {})
                    )
                    return HttpResponseRedirect(f"{resolve_url('login')}?{query}")
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """Until their second factor is verified, a staff user reaches only the sign-in steps.

    Checked as each view is chosen, so the CSRF check still answers first. A page redirects to
    the second-factor step (which comes back to the page afterwards); the API answers 401 in
    its error shape. Patients have no second factor (accounts.User.needs_second_factor).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: object, args: object, kwargs: object
    ) -> HttpResponse | None:
        from django.conf import settings
        from django.urls import reverse

        user = request.user
        if not user.is_authenticated or not user.needs_second_factor or user.is_verified():  # type: ignore[union-attr]
            return None
        match = request.resolver_match
        if match is not None and match.view_name in BEFORE_SECOND_FACTOR:
            return None
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        if request.path.startswith(API_PREFIX):
            return _api_error("second_factor_required", "Verify your second factor first.")
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('accounts:second_factor')}?{query}")
