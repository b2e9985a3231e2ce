"""Response headers and error handling that every page of prolotrack needs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
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
        log.error(
            "unhandled error %s on %s %s",
            reference,
            request.method,
            request.path,
            exc_info=exception,
        )
        body = render_to_string("500.html", {"reference": reference})
        return HttpResponse(body, status=500)
