"""The JSON API, version 1: /api/v1/, described by OpenAPI at /api/v1/openapi.json.

Operations call the same services as the pages and the CLI, so behaviour cannot drift between
them. Every error has one shape: {"error": {"code", "message", "field"}}.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError
from ninja.security import django_auth

from prolotrack.accounts.models import CLINICIAN_ROLES
from prolotrack.core.rules import PlanError, check_plan, parse_plan_json

# The plan body is parsed by core's strict parser (the same as `prolotrack check-plan`), so the
# schema below documents it for readers of the OpenAPI description; it is not used to parse.
PLAN_BODY_SCHEMA = {
    "type": "object",
    "required": ["jurisdiction", "practitioner", "patient", "series", "injections"],
    "description": "An injection plan; the format is documented in the README "
    "(Safety checks and the plan format).",
}


class ErrorDetail(Schema):
    code: str
    message: str
    field: str


class ErrorOut(Schema):
    error: ErrorDetail


class FindingOut(Schema):
    code: str
    kind: str
    severity: str
    message: str
    source: str


class TotalsOut(Schema):
    lidocaine_mg: float
    dextrose_g: float
    volume_ml: float


class PlanCheckOut(Schema):
    findings: list[FindingOut]
    totals: TotalsOut


api = NinjaAPI(
    title="prolotrack API",
    version="1",
    urls_namespace="api-v1",
    auth=django_auth,
)


def error(code: str, message: str, field: str = "") -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message, "field": field}}


@api.post(
    "/plans/check",
    response={200: PlanCheckOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Check an injection plan against the safety rules",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PLAN_BODY_SCHEMA}},
        }
    },
)
def plans_check(request: HttpRequest) -> Status[dict[str, object]]:
    """The findings and totals of a plan, exactly as `prolotrack check-plan` prints them."""
    if request.user.role not in CLINICIAN_ROLES:
        return Status(403, error("forbidden", "Only a practitioner may check plans."))
    try:
        text = request.body.decode("utf-8")
        plan = parse_plan_json(text)
    except UnicodeDecodeError:
        return Status(422, error("invalid", "The body must be UTF-8 JSON."))
    except PlanError as exc:
        return Status(422, error("invalid", exc.message, exc.path))
    return Status(200, check_plan(plan).as_dict())


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, error("unauthenticated", "Sign in first."), status=401)
