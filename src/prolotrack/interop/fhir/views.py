"""The published code systems, value sets and extensions: /interop/fhir/CodeSystem/<name>,
ValueSet/<name> and StructureDefinition/<name>.

Public on purpose: they hold the catalog (sites, regions, categories) and the definitions of
prolotrack's extensions, never a record, and a receiving system resolves prolotrack's codes and
extensions from them without an account.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from prolotrack.interop.fhir.extensions import EXTENSIONS, structure_definition_resource
from prolotrack.interop.fhir.terminology import (
    CODE_SYSTEMS,
    code_system_resource,
    value_set_resource,
)

FHIR_JSON = "application/fhir+json; charset=utf-8"


def _answer(resource: dict[str, object]) -> HttpResponse:
    body = json.dumps(resource, ensure_ascii=False, indent=1)
    return HttpResponse(body, content_type=FHIR_JSON)


@require_GET
def code_system(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CODE_SYSTEMS:
        raise Http404("No such code system.")
    return _answer(code_system_resource(name))


@require_GET
def value_set(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CODE_SYSTEMS:
        raise Http404("No such value set.")
    return _answer(value_set_resource(name))


@require_GET
def structure_definition(request: HttpRequest, name: str) -> HttpResponse:
    if name not in EXTENSIONS:
        raise Http404("No such extension.")
    return _answer(structure_definition_resource(name))
