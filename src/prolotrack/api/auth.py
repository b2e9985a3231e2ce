"""Who is calling the API: an integration's bearer token, or a signed-in browser session.

Every operation accepts both. A request that carries ``Authorization: Bearer ...`` is judged by
that token alone: an unknown, revoked or malformed token answers 401 even if a session cookie
came along. Otherwise the session decides, with Django's CSRF check for writes (a browser).
Either way ``request.user`` is the user whose rights apply, so the access helpers, the services
and the audit trail treat an API call exactly like the same user's page.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from prolotrack.accounts.models import Role
from prolotrack.api.models import ApiToken
from prolotrack.api.tokens import token_authenticate
from prolotrack.ops import scoping

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer ptk_...``: the token acts as its user (``api.models``)."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if header is None:
            return None  # no token: the session decides
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError()
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = token_authenticate(token)
        if found is None:
            raise AuthenticationError()
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        # The middleware saw no signed-in user on this request: the token's clinic is the
        # request's, for the ORM's scope and PostgreSQL's row-level security.
        scoping.request_clinic_set(found.clinic_id)
        if connection.vendor == "postgresql":
            from prolotrack.ops import rls

            rls.set_clinic(connection, found.clinic_id)
        if found.read_only and request.method in WRITE_METHODS:
            # Refused here, for every operation at once: none can forget it.
            raise PermissionDenied("This token is read-only: it may only read (GET).")
        return found


class StaffSessionAuth(SessionAuth):
    """The browser's session, with ninja's CSRF check on writes.

    A staff member's session counts only once their second factor is verified, when the
    second factor is in use (django-otp's middleware gives the user ``is_verified``); a token
    is a factor of its own.
    """

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        is_verified = getattr(user, "is_verified", None)
        if user.role != Role.PATIENT and callable(is_verified) and not is_verified():
            return None
        return user


token_auth = TokenAuth()
session_auth = StaffSessionAuth()
# The token first: a request that names a token is never judged by its cookies.
AUTH = [token_auth, session_auth]
