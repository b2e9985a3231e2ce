"""Receivers of Django's auth signals: sign-in, sign-out and failed sign-in (ASVS 16.3.1).

Connected in `AuditConfig.ready()`. They record and do nothing else.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record, audit_record_login_failed


def record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(request=request, user=user, action=Action.LOGIN)


def record_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # `user` is None when someone without a session signs out; that is still a request to log.
    audit_record(request=request, user=user, action=Action.LOGOUT)


def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the name that was tried. Django already masks the password in `credentials`, but
    # nothing else of them is kept either: any other field could hold a secret.
    audit_record_login_failed(request=request, attempted_username=credentials.get("username", ""))
