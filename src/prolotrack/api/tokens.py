"""Creating, revoking and checking API tokens: the page, the command and the API share these.

A token reads ``ptk_<prefix>_<secret>``: 8 hex characters that name it, then 43 characters of
URL-safe randomness (256 bits). It is stored as the SHA-256 of the whole string: a fast hash is
enough for a random secret of this length (nobody guesses 2**256), and it lets a request's
token be found by one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone

from prolotrack.accounts.models import CLINICIAN_ROLES, Clinic, Role, User
from prolotrack.api.models import ApiToken

TOKEN_PREFIX = "ptk_"  # noqa: S105 - the public start of every token, not a secret

# Who a token may act as: the clinic's staff. A patient's own access is through their sign-in,
# and an auditor reads the audit trail, which is not in the API.
TOKEN_ROLES = frozenset(
    {
        Role.PHYSICIAN,
        Role.NATUROPATHIC_DOCTOR,
        Role.NURSE_PRACTITIONER,
        Role.FRONT_DESK,
        Role.CLINIC_ADMIN,
    }
)

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_create(
    *,
    clinic: Clinic,
    name: str,
    user: User,
    read_only: bool,
    created_by: User | None,
) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is returned here and never again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the token a name of 1 to 100 characters."})
    if user.clinic_id != clinic.pk or not user.is_active or user.role not in TOKEN_ROLES:
        raise ValidationError(
            {"user": "A token acts as an active staff member of its clinic (not a patient)."}
        )
    if created_by is not None and (
        created_by.clinic_id != clinic.pk or created_by.role != Role.CLINIC_ADMIN
    ):
        raise ValidationError({"created_by": "Only the clinic's administrators create tokens."})
    if created_by is not None and user.role in CLINICIAN_ROLES:
        # A clinic administrator sees no clinical notes; a token acting as a practitioner would
        # give them that access. The server's operator makes those with `api-token create`.
        raise ValidationError(
            {
                "user": "A token that acts as a practitioner reads clinical records, which "
                "administrators do not; the server's operator creates it with "
                "`prolotrack api-token create`."
            }
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        clinic=clinic,
        name=name,
        user=user,
        read_only=read_only,
        prefix=prefix,
        secret_sha256=secret_sha256(secret),
        created_by=created_by,
    )
    return token, secret


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` from now on; revoking twice keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its user; None for anything else.

    A token stops working when it is revoked, when its user is deactivated or leaves the
    clinic, or when the user's role is no longer one a token may act as.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user", "user__clinic", "clinic")
        .filter(secret_sha256=secret_sha256(secret))
        .first()
    )
    if token is None:
        return None
    user = token.user
    if not user.is_active or user.clinic_id != token.clinic_id or user.role not in TOKEN_ROLES:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
