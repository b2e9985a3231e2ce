"""The second factor: a TOTP authenticator app for every role but patients (django-otp).

After the password, a staff user with no confirmed device enrols one (a QR code and the secret
in text, confirmed with a code); one with a device types its current code. Until then
`web.middleware.SecondFactorRequiredMiddleware` lets them reach nothing else.

A code is accepted once: django-otp keeps the last time step used (`last_t`) and refuses that
step and earlier ones, and the device row is locked while a code is checked so that two requests
with the same code cannot both pass. After `OTP_FAILURE_LIMIT` wrong codes in a row the device
accepts none, right or wrong, for `OTP_LOCK_MINUTES`: with 3 valid codes out of a million in
the tolerance window, that leaves a guesser about one chance in 70,000 a day.
"""

from __future__ import annotations

import datetime as dt
import enum

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts.models import User
from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record

DEVICE_NAME = "Authenticator app"


class CodeCheck(enum.Enum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"


def device_confirmed(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def device_for_enrolment(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled: the same one (and QR code) on every reload."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def locked_until(device: TOTPDevice, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the device takes codes again after too many wrong ones, or None when it does."""
    if device.throttling_failure_count < settings.OTP_FAILURE_LIMIT:
        return None
    failed_at = device.throttling_failure_timestamp
    if failed_at is None:
        return None
    until = failed_at + dt.timedelta(minutes=settings.OTP_LOCK_MINUTES)
    return until if until > (now or timezone.now()) else None


def code_check(*, request: HttpRequest, device: TOTPDevice, code: str) -> CodeCheck:
    """Check `code` against `device` (which must be the request user's) and record a failure.

    A wrong code, or any code while the device is locked, is audited as a failed sign-in of the
    user whose password was right, with the step named in the detail.
    """
    with transaction.atomic():
        # One check at a time per device: the replay guard (last_t) and the failure count are
        # read and written under the row lock.
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if locked_until(locked) is not None:
            result = CodeCheck.LOCKED
        elif locked.verify_token(code):
            result = CodeCheck.VERIFIED
        else:
            result = CodeCheck.LOCKED if locked_until(locked) is not None else CodeCheck.WRONG
    if result is not CodeCheck.VERIFIED:
        audit_record(
            request=request,
            action=Action.LOGIN_FAILED,
            outcome=Outcome.FAILED,
            detail={"step": "second_factor", "locked": result is CodeCheck.LOCKED},
        )
    device.refresh_from_db()
    return result


def second_factor_login(request: HttpRequest, device: TOTPDevice) -> None:
    """Mark the session verified by `device`, under a new session id (the privilege changed)."""
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    otp_login(request, device)
    request.session.cycle_key()
    audit_record(request=request, action=Action.LOGIN, detail={"step": "second_factor"})


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth URI as an inline SVG QR code: attributes only, no style, so the
    strict Content-Security-Policy lets it show."""
    title = f"QR code to add {device.user.get_username()} to an authenticator app"
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="qr", lineclass=None
    )


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, to type into an app that cannot scan."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_code(device: TOTPDevice) -> str:
    """The code the device's app shows now. Demo and tests only: never shown in production."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
