"""The API's one error shape, {"error": {"code", "message", "field"}}, and what answers it.

Every operation declares its 4xx answers with ``ErrorOut``; ``install(api)`` makes every
refusal of the API, whether raised by ninja, by an access helper or by an operation, answer in
that shape. Refusals by an access helper (403, 404) are recorded in the audit trail here, once
for every operation, as the pages' ``audit_refusals`` decorator does for the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from prolotrack.api.schemas import via
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record
from prolotrack.core.charting import FieldError
from prolotrack.ops import scoping


class ErrorDetail(Schema):
    code: str
    message: str
    field: str


class ErrorOut(Schema):
    error: ErrorDetail


def error(code: str, message: str, field: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message, "field": field}}


class ApiError(Exception):
    """An answer other than success, raised anywhere in an operation."""

    def __init__(self, status: int, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def invalid(errors: Sequence[FieldError]) -> ApiError:
    """The first of a service's field errors as a 422 (the others follow once it is fixed)."""
    first = errors[0]
    return ApiError(422, "invalid", first.message, first.field)


def stale(current_version: int) -> ApiError:
    return ApiError(
        409,
        "stale_version",
        f"Someone else changed this record: it is now at version {current_version}. "
        "Nothing was overwritten; read it again and repeat the change.",
        "version",
    )


# The answers of a read, of an operation with a body, and of one that changes a record.
READ = (400, 401, 403, 404)
WRITE = (401, 403, 404, 422)


def responses(success: dict[int, Any], *errors: int) -> dict[int, Any]:
    """An operation's ``response=`` mapping: its success and each error code with ErrorOut."""
    return {**success, **{code: ErrorOut for code in sorted(set(errors))}}


# The URL arguments that name what a refused request asked for, in the audit event.
_OBJECT_KWARGS = (
    ("alert_id", "alert"),
    ("entry_id", "diaryentry"),
    ("session_id", "session"),
    ("series_id", "series"),
    ("patient_id", "patient"),
)


def _refused(request: HttpRequest, status: int) -> None:
    kwargs = getattr(getattr(request, "resolver_match", None), "kwargs", {}) or {}
    object_type, object_id = "", ""
    for name, kind in _OBJECT_KWARGS:
        if name in kwargs:
            object_type, object_id = kind, kwargs[name]
            break
    # The patient named in the URL too, when it is one of the caller's clinic (the scope's),
    # so that a search of the clinic's trail by patient finds it.
    patient_id = _own_clinic_patient(str(kwargs.get("patient_id", "")))
    audit_record(
        request=request,
        action=Action.ACCESS_REFUSED,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        outcome=Outcome.REFUSED,
        detail={**via(request), "status": status},
    )


def _own_clinic_patient(value: str) -> int | None:
    if not value.isdigit() or len(value) > 18 or scoping.current_clinic_id() is None:
        return None
    from prolotrack.patients.models import Patient

    return int(value) if Patient.objects.filter(pk=int(value)).exists() else None


def _field(loc: Sequence[Any]) -> str:
    """A pydantic location as a dotted field path: ("body", "payload", "injections", 0, "side")
    is "injections.0.side"; ("query", "page") is "page"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    return ".".join(parts)


def install(api: NinjaAPI) -> None:
    """Answer every refusal of ``api`` in the one error shape."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status, error(exc.code, exc.message, exc.field))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = "Sign in, or send a valid token as “Authorization: Bearer <token>”."
        return respond(request, 401, error("unauthenticated", message))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        _refused(request, 403)
        message = str(exc) or "You may not do this."
        return respond(request, 403, error("forbidden", message))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        _refused(request, 404)
        return respond(request, 404, error("not_found", str(exc) or "Not found."))

    @api.exception_handler(ValidationError)
    def validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        field = _field(first.get("loc", ()))
        message = str(first.get("msg", "Invalid input."))
        return respond(request, 422, error("invalid", message, field))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja's own refusals: the CSRF check of a signed-in browser (403), an unreadable body.
        code = {400: "bad_request", 403: "forbidden"}.get(exc.status_code, "error")
        return respond(request, exc.status_code, error(code, str(exc.message)))
