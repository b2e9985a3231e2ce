"""Patients sign in with a one-time link sent by email: invitations and new links.

The token is 32 random bytes; only its SHA-256 is stored, so a copy of the database opens no
one's diary. A link works once (the row is marked used by a conditional UPDATE, so two clicks at
the same moment cannot both sign in) and for ``SIGN_IN_LINK_MINUTES``.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from prolotrack.accounts.models import Role, User
from prolotrack.diary.models import SignInLink, hash_token
from prolotrack.patients.models import Patient


class InviteError(Exception):
    pass


class LinkProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def sign_in_link_create(
    *, patient: Patient, user: User, now: dt.datetime, invited_by: User | None = None
) -> str:
    """A new link's token (to put in the URL); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    SignInLink.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        user=user,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.SIGN_IN_LINK_MINUTES),
        invited_by=invited_by,
    )
    return token


def sign_in_url(token: str, base_url: str | None = None) -> str:
    return (base_url or settings.SITE_URL).rstrip("/") + reverse("diary:signin", args=[token])


def _send_link(*, email: str, patient: Patient, url: str, invited: bool) -> None:
    minutes = settings.SIGN_IN_LINK_MINUTES
    clinic = patient.clinic.name
    if invited:
        subject = f"Your pain diary at {clinic}"
        opening = (
            f"{clinic} invites you to keep a short pain diary between your sessions on "
            "prolotrack. It takes under a minute a day and helps your practitioner see how "
            "the treatment works for you."
        )
    else:
        subject = f"Your sign-in link for your pain diary at {clinic}"
        opening = "Here is the sign-in link you asked for."
    send_mail(
        subject=subject,
        message=(
            f"Hello {patient.given_name},\n\n{opening}\n\nOpen this link on your phone to sign "
            f"in (it works once, within {minutes} minutes):\n{url}\n\nNo password is needed. "
            "If you did not expect this email, you can ignore it.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def patient_invite(
    *,
    patient: Patient,
    by: User | None,
    now: dt.datetime,
    base_url: str | None = None,
    send: bool = True,
) -> User:
    """Give ``patient`` a diary sign-in (creating their user if missing) and email a link
    (``send=False``: no email, for the demo, which prints its own link)."""
    email = (patient.email or "").strip()
    if not email:
        raise InviteError(
            "The patient has no email address. Add one with Edit details, then invite again."
        )
    with transaction.atomic():
        user = patient.user
        if user is None:
            user = User(
                username=f"patient-{patient.clinic_id}-{patient.pk}",
                email=email,
                first_name=patient.given_name,
                last_name=patient.family_name,
                clinic_id=patient.clinic_id,
                role=Role.PATIENT,
            )
            # Patients sign in by link only: no password to remember, none to guess.
            user.set_unusable_password()
            user.save()
            Patient.objects.filter(pk=patient.pk).update(user=user)
            patient.user = user
        elif user.role != Role.PATIENT or user.clinic_id != patient.clinic_id:
            raise InviteError(
                "This patient's sign-in belongs to someone else; ask an administrator."
            )
        else:
            fields = []
            if user.email != email:
                user.email = email
                fields.append("email")
            if not user.is_active:
                user.is_active = True
                fields.append("is_active")
            if fields:
                user.save(update_fields=fields)
        if send:
            token = sign_in_link_create(patient=patient, user=user, now=now, invited_by=by)
            url = sign_in_url(token, base_url)
            transaction.on_commit(
                lambda: _send_link(email=email, patient=patient, url=url, invited=True)
            )
    return user


def sign_in_link_request(*, email: str, now: dt.datetime, base_url: str | None = None) -> int:
    """Email a new link to every active patient sign-in with ``email``; return how many.

    The caller answers the same whatever this returns, so the form tells no one whether an
    address is known.
    """
    users = User.objects.filter(
        email__iexact=email.strip(), role=Role.PATIENT, is_active=True
    ).select_related("patient_record__clinic")
    count = 0
    for user in users:
        patient = getattr(user, "patient_record", None)
        if patient is None or patient.clinic_id != user.clinic_id:
            continue
        token = sign_in_link_create(patient=patient, user=user, now=now)
        _send_link(
            email=user.email, patient=patient, url=sign_in_url(token, base_url), invited=False
        )
        count += 1
    return count


def sign_in_link_check(token: str, now: dt.datetime) -> SignInLink:
    """The link of ``token`` if it can still be used; LinkRefused saying why otherwise."""
    link = SignInLink.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    if link is None:
        raise LinkRefused(LinkProblem.UNKNOWN)
    if link.used_at is not None:
        raise LinkRefused(LinkProblem.USED)
    if link.expires_at <= now or not link.user.is_active:
        raise LinkRefused(LinkProblem.EXPIRED)
    return link


def sign_in_link_redeem(token: str, now: dt.datetime) -> User:
    """Use the link of ``token`` once and return whom it signs in."""
    link = sign_in_link_check(token, now)
    used = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not used:
        # Another request used it a moment ago.
        raise LinkRefused(LinkProblem.USED)
    return link.user
