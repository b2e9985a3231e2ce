"""Per request, the clinic whose rows PostgreSQL lets the application see (``ops.rls``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from prolotrack.ops import rls


class ClinicScopeMiddleware:
    """Set ``prolotrack.clinic_id`` on the connection to the signed-in user's clinic.

    It goes after the authentication middleware, which says who the user is; the user table is
    outside the wall, so finding them needs no clinic. Anonymous requests and users without a
    clinic get an empty setting: no clinic's rows. The setting is made before the request's
    first query, so nothing is inherited from the connection's previous request, and cleared
    at the end (for a streamed response, after its last chunk), so nothing outside a request
    inherits it either. Not used on SQLite, which has no row security.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if connection.vendor != "postgresql":
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        clinic_id = getattr(user, "clinic_id", None) if user and user.is_authenticated else None
        scope = rls.RequestScope(connections[DEFAULT_DB_ALIAS], clinic_id)
        try:
            with scope.active():
                response = self.get_response(request)
        except BaseException:
            scope.clear()
            raise
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed(response.streaming_content, scope)
        else:
            scope.clear()
        return response


def _streamed(chunks: Iterator[bytes], scope: rls.RequestScope) -> Iterator[bytes]:
    try:
        with scope.active():
            yield from chunks
    finally:
        scope.clear()
