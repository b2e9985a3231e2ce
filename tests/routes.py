"""The project's routes and API operations, as the tests that must cover all of them see them.

`routes()` walks the URL configuration; `api_operations()` reads the OpenAPI description of the
API. The audit coverage test (T16) and the security tests (T2, T4-T6, T12) build their tables
from these, so a new route or operation fails them until it gets an entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from prolotrack.api.v1 import api as api_v1

# The ninja API mounted under /api/v1/; its operations are listed from its OpenAPI description.
API_PREFIX = "api/v1/"
API_NAMESPACE = "api-v1"


@dataclass(frozen=True)
class Route:
    """A route of the URL configuration: its name (namespace:name, or its path when unnamed)
    and its path pattern, for example ``patients/<int:patient_id>/edit/``."""

    name: str
    pattern: str

    @property
    def key(self) -> str:
        """The name the tables use: static files are one entry, whatever their number."""
        static = settings.STATIC_URL.lstrip("/")
        return "static" if static and self.pattern.lstrip("^/").startswith(static) else self.name

    @property
    def kwargs(self) -> list[str]:
        """The URL arguments the pattern takes, in order."""
        return re.findall(r"<(?:\w+:)?(\w+)>", self.pattern)

    def url(self, values: dict[str, Any]) -> str:
        missing = [k for k in self.kwargs if k not in values]
        if missing:
            raise LookupError(f"no test value for the URL argument(s) {missing} of {self.name}")
        return reverse(self.name, kwargs={k: values[k] for k in self.kwargs})


def _walk(patterns: list[Any], namespace: str = "", prefix: str = "") -> list[Route]:
    found = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, inner, route)
        else:
            assert isinstance(entry, URLPattern)
            found.append(Route(f"{namespace}{entry.name}" if entry.name else route, route))
    return found


def routes() -> list[Route]:
    """Every route of the project's URL configuration."""
    return _walk(get_resolver().url_patterns)


@dataclass(frozen=True)
class Operation:
    """An operation of the API's OpenAPI description: ``POST /api/v1/plans/check``."""

    method: str
    path: str
    operation_id: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def kwargs(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def url(self, values: dict[str, Any]) -> str:
        missing = [k for k in self.kwargs if k not in values]
        if missing:
            raise LookupError(f"no test value for the path argument(s) {missing} of {self.key}")
        return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), self.path)


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def api_operations() -> list[Operation]:
    """Every operation the API's OpenAPI document (/api/v1/openapi.json) describes."""
    schema = api_v1.get_openapi_schema()
    return [
        Operation(method.upper(), path, spec.get("operationId", ""))
        for path, item in schema["paths"].items()
        for method, spec in item.items()
        if method in HTTP_METHODS
    ]


def operation_pattern(path: str) -> str:
    """The URL pattern ninja mounts an OpenAPI path under: ``{id}`` becomes ``<id>``-like."""
    return re.sub(r"{(\w+)}", r"<\1>", path.lstrip("/"))


def is_api_operation_route(route: Route, operations: list[Operation]) -> bool:
    """True for a route ninja serves an operation on (described by the OpenAPI document)."""
    plain = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route.pattern)
    return plain in {operation_pattern(op.path) for op in operations}
