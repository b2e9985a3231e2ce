"""The JSON API, version 1: /api/v1/, described by OpenAPI at /api/v1/openapi.json.

Operations call the same services as the pages and the CLI, so behaviour cannot drift between
them. Every error has one shape: {"error": {"code", "message", "field"}} (``api.errors``), and
every operation declares each answer it gives. Callers sign in with a session (a browser) or an
API token (``Authorization: Bearer ...``, ``api.auth``).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Status

from prolotrack.accounts.models import CLINICIAN_ROLES
from prolotrack.api import errors
from prolotrack.api.auth import AUTH
from prolotrack.api.diary import router as diary_router
from prolotrack.api.errors import error, responses
from prolotrack.api.outcomes import router as outcomes_router
from prolotrack.api.patients import router as patients_router
from prolotrack.api.schemas import PlanCheckOut
from prolotrack.api.treatment import router as treatment_router
from prolotrack.core.rules import PlanError, check_plan, parse_plan_json

# The plan body is parsed by core's strict parser (the same as `prolotrack check-plan`), so the
# schema below documents it for readers of the OpenAPI description; it is not used to parse.
PLAN_BODY_SCHEMA = {
    "type": "object",
    "required": ["jurisdiction", "practitioner", "patient", "series", "injections"],
    "description": "An injection plan; the format is documented in the README "
    "(Safety checks and the plan format).",
}


api = NinjaAPI(
    title="prolotrack API",
    version="1",
    urls_namespace="api-v1",
    auth=AUTH,
)
errors.install(api)
api.add_router("/", patients_router)
api.add_router("/", treatment_router)
api.add_router("/", outcomes_router)
api.add_router("/", diary_router)
api.add_router("/fhir/", "prolotrack.interop.fhir_api.router")


@api.post(
    "/plans/check",
    response=responses({200: PlanCheckOut}, 401, 403, 422),
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
