"""Sending one request to a route or API operation of the matrix, and classifying the answer."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from tests.routes import Operation, Route, api_operations, is_api_operation_route, routes
from tests.security.matrix import API_ARGUMENTS, API_BODIES, WHERE


@cache
def endpoints() -> dict[str, Route | Operation]:
    """Every route (by name) and API operation (by "METHOD /path") that needs an entry; the
    routes ninja serves operations on are known by their operations."""
    operations = api_operations()
    found: dict[str, Route | Operation] = {
        route.key: route for route in routes() if not is_api_operation_route(route, operations)
    }
    found.update({op.key: op for op in operations})
    found.pop("static", None)  # served before any view: no route of ours
    return found


def url_of(key: str, values: dict[str, Any]) -> str:
    endpoint = endpoints().get(key)
    assert endpoint is not None, f"{WHERE} names {key!r}, which is no longer a route or operation"
    renamed = {arg: values[name] for arg, name in API_ARGUMENTS.get(key, {}).items()}
    try:
        return endpoint.url({**values, **renamed})
    except LookupError as exc:
        raise AssertionError(f"{exc}: add it to Actors.url_values (tests/security)") from None


def send(
    client: Client,
    key: str,
    method: str,
    values: dict[str, Any],
    *,
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> Any:
    """One request: a route gets ``data`` as a form (empty by default), an API operation its
    JSON body."""
    url = url_of(key, values)
    if isinstance(endpoints()[key], Operation):

        def post_json(path: str, data: Any) -> Any:
            raw = json.dumps(data)
            return client.generic("POST", path, raw, content_type="application/json", **extra)

        sent = API_BODIES.get(key, {})
        body = json.dumps(sent(values, post_json) if callable(sent) else sent)
        return client.generic(method, url, body, content_type="application/json", **extra)
    if method == "POST":
        return client.post(url, data or {}, **extra)
    return client.generic(method, url, **extra)


def is_login_redirect(response: HttpResponse) -> bool:
    """A redirect to a sign-in page: the staff's, or the diary's (a patient's link by mail)."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    location = urlsplit(response["Location"])
    pages = (resolve_url(settings.LOGIN_URL), reverse("diary:signin_request"))
    return location.path in pages and "next=" in location.query


def outcome(response: HttpResponse) -> str:
    code = response.status_code
    if code == 401 or is_login_redirect(response):
        return "login"
    if 200 <= code < 400:
        return "ok"
    return str(code)


def body(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")
