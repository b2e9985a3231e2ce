"""Per request, the clinic whose rows the application may see: in the ORM (``ops.scoping``) on
every database, and in PostgreSQL's row-level security (``ops.rls``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from prolotrack.ops import rls, scoping


class ClinicScopeMiddleware:
    """Scope the request to the signed-in user's clinic.

    It goes after the authentication middleware, which says who the user is; the user table is
    outside the wall, so finding them needs no clinic. Anonymous requests and users without a
    clinic get a scope that names no clinic: their clinical queries fail closed.

    The ORM's scope (``ops.scoping.request_scope``) holds for the whole request, and for a
    streamed response until its last chunk. On PostgreSQL the clinic is also set on the
    connection for row-level security before the request's first query, so nothing is
    inherited from the connection's previous request, and cleared at the end, so nothing
    outside a request inherits it either.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.row_security = connection.vendor == "postgresql"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        clinic_id = getattr(user, "clinic_id", None) if user and user.is_authenticated else None
        rls_scope = (
            rls.RequestScope(connections[DEFAULT_DB_ALIAS], clinic_id)
            if self.row_security
            else None
        )
        try:
            with _scoped(clinic_id, rls_scope):
                response = self.get_response(request)
                # The request's clinic as it ended (an API token may have set it).
                streamed_clinic_id = scoping.current_clinic_id()
        except BaseException:
            if rls_scope is not None:
                rls_scope.clear()
            raise
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _streamed(
                response.streaming_content, streamed_clinic_id, rls_scope
            )
        elif rls_scope is not None:
            rls_scope.clear()
        return response


def _scoped(clinic_id: int | None, rls_scope: rls.RequestScope | None) -> ExitStack:
    stack = ExitStack()
    stack.enter_context(scoping.request_scope(clinic_id))
    if rls_scope is not None:
        stack.enter_context(rls_scope.active())
    return stack


def _streamed(
    chunks: Iterator[bytes], clinic_id: int | None, rls_scope: rls.RequestScope | None
) -> Iterator[bytes]:
    try:
        with _scoped(clinic_id, rls_scope):
            yield from chunks
    finally:
        if rls_scope is not None:
            rls_scope.clear()
