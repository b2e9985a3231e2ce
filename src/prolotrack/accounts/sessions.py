"""How long a signed-in session lasts, and what ends it (RELIABILITY.md T15).

Staff: 15 minutes without a request, or 12 hours after signing in, whichever comes first;
patients: PATIENT_SESSION_DAYS after signing in, with no idle limit. "Sign out other devices"
and deactivation raise the user's `session_generation`, which ends every session started under
the old number. Checked on every request by `web.middleware.SessionLifetimeMiddleware`.

Three values in the session: when it was signed in (`AUTH_AT`), the last request (`SEEN_AT`,
staff only, so a patient's session is not rewritten on every page) and the generation.
"""

from __future__ import annotations

import datetime as dt
import enum

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from prolotrack.accounts.models import User

AUTH_AT = "prolotrack_auth_at"
SEEN_AT = "prolotrack_seen_at"
GENERATION = "prolotrack_generation"


class Ended(enum.Enum):
    """Why a session ended; the value is the login page's `signed_out` parameter."""

    IDLE = "idle"
    EXPIRED = "expired"
    REVOKED = "revoked"


MESSAGES = {
    Ended.IDLE.value: "You were signed out after 15 minutes without activity. Sign in again.",
    Ended.EXPIRED.value: "You were signed out 12 hours after signing in. Sign in again.",
    Ended.REVOKED.value: (
        "You were signed out: your sessions were ended from another of your devices or by an "
        "administrator. Sign in again."
    ),
}


def session_start(request: HttpRequest, user: User, *, now: dt.datetime | None = None) -> None:
    """Stamp a new signed-in session; patients' sessions get their own lifetime."""
    stamp = (now or timezone.now()).timestamp()
    request.session[AUTH_AT] = stamp
    request.session[GENERATION] = user.session_generation
    if user.needs_second_factor:
        request.session[SEEN_AT] = stamp
    else:
        request.session.set_expiry(settings.PATIENT_SESSION_DAYS * 24 * 60 * 60)


def session_is_started(request: HttpRequest) -> bool:
    return AUTH_AT in request.session


def session_ended(
    request: HttpRequest, user: User, *, now: dt.datetime | None = None
) -> Ended | None:
    """Why the signed-in session of `user` is over, or None (and the request counted as
    activity) when it goes on."""
    session = request.session
    if session.get(GENERATION) != user.session_generation:
        return Ended.REVOKED
    stamp = (now or timezone.now()).timestamp()
    age = stamp - float(session[AUTH_AT])
    if not user.needs_second_factor:
        return Ended.EXPIRED if age > settings.PATIENT_SESSION_DAYS * 24 * 60 * 60 else None
    if age > settings.STAFF_SESSION_MAX_HOURS * 60 * 60:
        return Ended.EXPIRED
    if stamp - float(session.get(SEEN_AT, 0)) > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return Ended.IDLE
    session[SEEN_AT] = stamp
    return None
