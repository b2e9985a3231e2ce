"""Response headers that every page of prolotrack needs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class NoStoreMiddleware:
    """Health information must not linger in browser or proxy caches (RELIABILITY.md T2).

    Every dynamic response gets `Cache-Control: no-store`; static files are served before this
    middleware runs and keep their long cache lifetimes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        return response
