"""The API's test tools: token clients for the fixture world's users, and the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from prolotrack.accounts.models import Role, User
from prolotrack.api.tokens import token_create
from tests.audit.conftest import AuditLog
from tests.conftest import make_user


class ApiClient:
    """A client that sends JSON and, unless told otherwise, a bearer token."""

    def __init__(self, secret: str | None = None, client: Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self.client = client or Client(headers=headers)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get("/api/v1" + path, params or {})

    def _send(self, method: str, path: str, body: Any) -> Any:
        raw = body if isinstance(body, str | bytes) else json.dumps(body)
        send = getattr(self.client, method)
        return send("/api/v1" + path, raw, content_type="application/json")

    def post(self, path: str, body: Any = None) -> Any:
        return self._send("post", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Any:
        return self._send("patch", path, body)


def token_for(user: User, *, read_only: bool = False, name: str = "Test integration") -> str:
    _, secret = token_create(
        clinic=user.clinic, name=name, user=user, read_only=read_only, created_by=None
    )
    return secret


@pytest.fixture
def api(world: Any) -> Any:
    """``api("physician")``: a token client acting as that role of the world (a signed-in
    session for the auditor and the patient, whom no token acts as)."""

    def make(role: str, *, read_only: bool = False) -> ApiClient:
        user = auditor(world) if role == "auditor" else world.roles[role]
        if user.role in (Role.AUDITOR, Role.PATIENT):
            # No token acts as an auditor or a patient: they use their own sign-in.
            return ApiClient(client=world.client_for(user))
        return ApiClient(token_for(user, read_only=read_only))

    return make


def auditor(world: Any) -> User:
    found = User.objects.filter(clinic=world.clinic, role=Role.AUDITOR).first()
    return found or make_user(world.clinic, "auditor", Role.AUDITOR)


@pytest.fixture
def audit_log(db: None) -> AuditLog:
    return AuditLog()


def error_of(response: Any) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]
