"""Per request, the clinic whose rows PostgreSQL lets the application see (``ops.rls``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.core.exceptions import MiddlewareNotUsed
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from prolotrack.ops import rls


class ClinicScopeMiddleware:
    """Set ``prolotrack.clinic_id`` on the connection to the signed-in user's clinic.

    It goes after the authentication middleware, which says who the user is; the user table is
    outside the wall, so finding them needs no clinic. Anonymous requests and users without a
    clinic get an empty setting: no clinic's rows. The setting is made at the start of every
    request, so nothing is inherited from the connection's previous request, and cleared at the
    end (for a streamed response, when its last chunk is sent), so nothing outside a request
    inherits it either. Not used on SQLite, which has no row security.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if connection.vendor != "postgresql":
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        clinic_id = getattr(user, "clinic_id", None) if user and user.is_authenticated else None
        rls.set_clinic(connection, clinic_id)
        try:
            response = self.get_response(request)
        except BaseException:
            rls.set_clinic(connection, None)
            raise
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _cleared_after(response.streaming_content)
        else:
            rls.set_clinic(connection, None)
        return response


def _cleared_after(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        rls.set_clinic(connection, None)
