"""The lockout in front of the password check (django-axes, configured in settings)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out (username, address) pair before its password is checked.

    A sign-in over HTTP always has a request, and so an address to count failures against.
    `authenticate()` without a request (the test client's `login()`, a shell) has no address to
    lock and is left to the next backend, instead of failing as axes' own backend does.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
